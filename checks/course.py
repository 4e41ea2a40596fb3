"""The course table: one row per notebook, and the self-assessment questions. The facts every tool reads.

A row names the notebook's autograder part (its checks live in ``checks/parts/<part>.py``, the notebook calls
``helpers.check("<part>")``), the notebook's file-name prefix, its phase and time box in the room, how long its
solution may take to execute headless, and how long the solution's cells and checks took when measured (the grader's
time limits are multiples of these: :mod:`checks.grader.limits`). Adding a notebook is one row here plus its part
module (and its wrong variants, ``checks/tests/wrong_variants/<part>/``).

This module imports nothing but the standard library: the grader, the authoring tools, the benchmark and the tests
read it, and it reads none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OPTIONAL_PREFIX = "Bonus"
"""A task whose name starts with this is optional (if time is left / at home): scored apart from the core."""


@dataclass(frozen=True)
class SolutionTimes:
    """The solution's measured run of one notebook, in seconds (AVX2 stand-in; see :data:`NOTEBOOKS`).

    Attributes:
        slowest_cell_s: the slowest code cell.
        notebook_s: all code cells together.
        slowest_check_s: the slowest check.
        checks_s: all checks together (object and artifact checks).
    """

    slowest_cell_s: float
    notebook_s: float
    slowest_check_s: float
    checks_s: float


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course: a phase of the 2.5-hour workshop.

    Attributes:
        part: the autograder part that grades it (``checks/parts/<part>.py``; ``helpers.check("<part>")``).
        prefix: file-name prefix of the notebook in ``solutions/`` and ``notebooks/``, e.g. ``"02_demo"``.
        phase: the phase's name shown to learners.
        box_s: the phase's time box in the room, in seconds.
        run_target_s: target wall time for executing the solution headless on a 2-core CPU, in seconds (a small
            fraction of the box, so an instructor can re-run it live).
        solution: the solution's measured times, from which the grader sizes its limits.
    """

    part: str
    prefix: str
    phase: str
    box_s: int
    run_target_s: int
    solution: SolutionTimes

    @property
    def number(self) -> str:
        """The two-digit phase number, e.g. ``"02"``."""
        return self.prefix.split("_", 1)[0]


NOTEBOOKS: tuple[Notebook, ...] = (
    Notebook("concept", "01_concept", "Concept", 30 * 60, 60,
             SolutionTimes(slowest_cell_s=9.6, notebook_s=13.1, slowest_check_s=0.5, checks_s=1.1)),
    Notebook("demo", "02_demo", "Demo", 30 * 60, 120,
             SolutionTimes(slowest_cell_s=6.2, notebook_s=19.1, slowest_check_s=0.1, checks_s=0.1)),
    Notebook("exercise", "03_exercise", "Exercise", 45 * 60, 180,
             SolutionTimes(slowest_cell_s=13.3, notebook_s=48.3, slowest_check_s=5.6, checks_s=42.0)),
    Notebook("challenge", "04_challenge", "LoRA Challenge", 30 * 60, 360,
             SolutionTimes(slowest_cell_s=123.7, notebook_s=533.8, slowest_check_s=135.0, checks_s=280.0)),
    Notebook("reflection", "05_reflection", "Reflection", 15 * 60, 30,
             SolutionTimes(slowest_cell_s=5.2, notebook_s=5.9, slowest_check_s=2.6, checks_s=4.7)),
)
"""The five notebooks in order. The solutions' cells were timed under the AVX2 stand-in
(``ATEN_CPU_CAPABILITY=avx2``) on a 2-core AMD EPYC, December 2026, the slowest CPU the workshop supports. The checks
were timed on the AVX-512 BF16 EPYC (``make grade``'s report: exercise 26.5 s, slowest 3.5 s; challenge 13 s in the
notebook's process and 56 s in the clean one, the test-split score 41 s) and scaled to AVX2: x1.6 for the exercise
(the ratio of its notebook times), x3.3 for the challenge (generation: the base model's test-split score takes 15 s
there and 50 s under AVX2). The challenge's checks gained 50 s when the inference-script check began running the
script twice and generating its own answers (15 s more on a 2-core Intel Xeon with AVX-512 BF16, 2026-12-06)."""


def parts() -> list[str]:
    """The autograder parts, in course order."""
    return [n.part for n in NOTEBOOKS]


def notebook(part: str) -> Notebook:
    """The row of ``part``.

    Raises:
        ValueError: no notebook has this part; the message lists the parts.
    """
    for row in NOTEBOOKS:
        if row.part == part:
            return row
    raise ValueError(f"Unknown autograder part {part!r}. Available: {parts()}")


def notebook_of(path: str | Path) -> Notebook:
    """The row whose prefix starts the file name of ``path`` (``solutions/02_demo_....ipynb`` -> the Demo).

    Raises:
        ValueError: no row's prefix starts the file name; the message lists the prefixes.
    """
    name = Path(path).name
    for row in NOTEBOOKS:
        if name.startswith(row.prefix):
            return row
    prefixes = ", ".join(n.prefix for n in NOTEBOOKS)
    raise ValueError(f"No notebook of the course is named {name!r}: its name should start with one of {prefixes}.")


@dataclass(frozen=True)
class Question:
    """One self-assessment question and the graded checks that answer it.

    Attributes:
        text: the question, as the workshop asks it.
        checks: ``(part, task keyword)`` rules; a check matches when its part is ``part`` and its
            task contains the keyword (case-insensitive).
        revisit: which notebooks and sections to go back to (notebook + section).
    """

    text: str
    checks: tuple[tuple[str, str], ...]
    revisit: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "Can I load models using Auto classes?",
        (("exercise", "Task 1:"), ("concept", "Auto"), ("concept", "tokens")),
        "01 · Concept §2–3 (Auto classes, tokenizers), 02 · Demo §1 and 03 · Exercise, Task 1 (load_generator)",
    ),
    Question(
        "Do I understand how to configure generation parameters?",
        (("exercise", "Task 2:"), ("exercise", "Bonus B:")),
        "02 · Demo §4 (decoding strategies) and 03 · Exercise, Task 2 (generate_text); at home: Bonus B (presets)",
    ),
    Question(
        "Can I implement quantization for efficient inference?",
        (("concept", "memory"), ("exercise", "Task 5:"), ("challenge", "Bonus A: QLoRA")),
        "01 · Concept §4 (quantization), 02 · Demo §8 and 03 · Exercise, Task 5 (quantize and measure); at home: "
        "04 · LoRA challenge, Bonus A (QLoRA)",
    ),
    Question(
        "Do I know how to fine-tune models with LoRA?",
        (("concept", "LoRA"), ("challenge", "Task 1:"), ("challenge", "Task 2:"), ("challenge", "Task 3:"),
         ("challenge", "Bonus B: LoRA vs full")),
        "01 · Concept §5 (PEFT and LoRA) and 04 · LoRA challenge, Tasks 1–3",
    ),
    Question(
        "Can I push models to Hugging Face Hub?",
        (("reflection", "Hub"),),
        "01 · Concept §1 (the Hub) and 05 · Reflection §3 (Task: share on the Hub)",
    ),
)
"""The workshop's five self-assessment questions and their (part, task keyword) rules: the one table to edit when
checks change (the Reflection answers them from the grade report: :mod:`checks.self_assessment`)."""
