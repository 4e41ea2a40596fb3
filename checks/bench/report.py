"""The one schema of ``build/bench/bench.json``: one :class:`BenchRun` per CPU kind, merged across runs."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from checks.bench.machine import Machine
from checks.grader.limits import CHECK_BUDGET_S
from helpers.paths import BENCH_PATH

ALL_TASKS = "(all)"
"""The task of a ``helpers.check("part")`` cell, which runs every check of the part (not one task's)."""


class CellTime(BaseModel):
    """One code cell's execution (nbclient's ``execution`` metadata)."""

    index: int
    """Position in the notebook (0-based, markdown cells counted)."""
    seconds: float
    source: str
    """The cell's first line."""


class CheckTime(BaseModel):
    """One ``helpers.check(part, task)`` cell: what a learner waits for after asking."""

    part: str
    task: str
    seconds: float
    @property
    def over_budget(self) -> bool:
        """``seconds`` is over :data:`checks.grader.limits.CHECK_BUDGET_S`: the check belongs in ``make grade`` only
        (:attr:`checks.grader.registry.Check.grading_only`) or must get faster."""
        return self.seconds > CHECK_BUDGET_S

    @property
    def call(self) -> str:
        """The cell as written: ``helpers.check("part", "task")``, or ``helpers.check("part")`` (:data:`ALL_TASKS`)."""
        arguments = f'"{self.part}"' if self.task == ALL_TASKS else f'"{self.part}", "{self.task}"'
        return f"helpers.check({arguments})"


class NotebookRun(BaseModel):
    """One solution notebook executed headless in a fresh kernel (as ``make run`` does)."""

    notebook: str
    seconds: float
    """Wall time of the whole execution, kernel start included."""
    cells_seconds: float
    """Sum of the code cells' execution times."""
    core_seconds: float | None
    """Cells before the first ``## Bonus`` heading (the challenge's core path); ``None`` without bonus."""
    target_s: int
    """the course table's run target of the notebook (:data:`checks.course.NOTEBOOKS`)."""
    error: str
    slowest_cells: list[CellTime]
    checks: list[CheckTime]


class Generation(BaseModel):
    """Greedy generation of the same prompts in one precision."""

    precision: str
    """``fp32``, ``bf16`` (model loaded in bfloat16), ``int8`` (bitsandbytes LLM.int8) or ``nf4`` (4-bit)."""
    new_tokens: int | None
    seconds: float | None
    tokens_per_s: float | None
    note: str = ""
    """Why a figure is missing, or that generation stopped at its time limit."""


class Inference(BaseModel):
    """Model loading and generation speed."""

    load_seconds: float
    """``AutoModelForCausalLM.from_pretrained`` of the cached SmolLM2 in fp32, libraries already imported."""
    prompts: int
    max_new_tokens: int
    generation: list[Generation]
    matmul_gflops: dict[str, float]
    """A 256 x 576 x 1536 matmul (a batch of activations times an MLP weight) in fp32 and bf16, GFLOP/s."""


class TrainingMode(BaseModel):
    """A few training steps of one strategy on one batch, in a process of its own (the memory probe)."""

    mode: str
    seconds_per_step: float
    tokens_per_s: float
    """Real (not padding) tokens of the batch per second of a steady step."""
    peak_bytes: int
    trainable_params: int
    batch: str
    """``"4 x 93 tokens"``."""


class Recipe(BaseModel):
    """The course's LoRA recipe against a naive one, on the same tickets."""

    course: TrainingMode
    naive: TrainingMode
    speedup: float
    """``course.tokens_per_s / naive.tokens_per_s``."""
    course_settings: str
    naive_settings: str


class Training(BaseModel):
    """LoRA, QLoRA and full fine-tuning on the same batch; the recipe comparison."""

    modes: list[TrainingMode]
    memory_ratios: dict[str, float]
    """Peak memory of ``lora`` and ``qlora`` as a share of ``full``."""
    recipe: Recipe


class GradeRun(BaseModel):
    """``make grade NB=solutions/...``: the grader on one solution notebook, in fresh processes."""

    part: str
    notebook: str
    seconds: float
    score: int | None
    total: int | None
    """Points and the maximum, from the grade report (``None`` if it wrote none)."""
    returncode: int


class BenchRun(BaseModel):
    """Every figure of one ``make bench`` run (one CPU kind)."""

    machine: Machine
    seconds: float = 0.0
    """Wall time of the benchmark itself."""
    notebooks: list[NotebookRun] | None = None
    inference: Inference | None = None
    training: Training | None = None
    grading: list[GradeRun] | None = None

    @property
    def make_run_seconds(self) -> float | None:
        """``make run``: every notebook's wall time minus the bonus cells' execution, which it skips."""
        if not self.notebooks:
            return None
        return sum(n.seconds - (n.cells_seconds - n.core_seconds if n.core_seconds is not None else 0.0)
                   for n in self.notebooks)

    @property
    def make_run_bonus_seconds(self) -> float | None:
        """``make run BONUS=1``: every notebook's wall time, bonus sections included."""
        return sum(n.seconds for n in self.notebooks) if self.notebooks else None


def over_budget(run: BenchRun) -> list[CheckTime]:
    """The ``check()`` cells of ``run``'s notebooks over :data:`checks.grader.limits.CHECK_BUDGET_S` (slowest first).

    ``[]`` when none is, or when the run measured no notebooks.
    """
    slow = [c for n in run.notebooks or [] for c in n.checks if c.over_budget]
    return sorted(slow, key=lambda c: c.seconds, reverse=True)


def summary(run: BenchRun) -> str:
    """The run's headline figures, a line each, for the terminal."""
    lines = [f"{run.machine.kind}: {run.machine.cpu}, torch {run.machine.torch_capability} kernels, "
             f"mixed precision {run.machine.mixed_precision}, {run.machine.date[:10]}"]
    if run.notebooks:
        lines.append(f"  make run: {run.make_run_seconds / 60:.1f} min, "
                     f"with BONUS=1 {run.make_run_bonus_seconds / 60:.1f} min  |  "
                     + ", ".join(f"{n.notebook[:2]} {n.seconds:.0f} s" for n in run.notebooks))
        lines += [f"  {n.notebook[:2]} core path (before the bonuses): {n.core_seconds:.0f} s"
                  for n in run.notebooks if n.core_seconds is not None]
        checks = [(c.seconds, f"{c.part} {c.task}") for n in run.notebooks for c in n.checks if c.task != ALL_TASKS]
        if checks:
            slowest = max(checks)
            lines.append(f"  slowest check(part, task) cell: {slowest[0]:.1f} s ({slowest[1]})")
        slow = over_budget(run)
        if slow:
            lines.append(f"  SLOW: check() cells over the {CHECK_BUDGET_S:.0f} s budget: "
                         + ", ".join(f"{c.call} {c.seconds:.1f} s" for c in slow))
    if run.inference:
        lines.append(f"  cached model load {run.inference.load_seconds:.1f} s; new tokens/s: "
                     + ", ".join(f"{g.precision} {g.tokens_per_s if g.tokens_per_s is not None else 'n/a'}"
                                 for g in run.inference.generation)
                     + "; matmul GFLOP/s: " + ", ".join(f"{k} {v}" for k, v in run.inference.matmul_gflops.items()))
    if run.training:
        lines.append("  training s/step: " + ", ".join(f"{m.mode} {m.seconds_per_step}" for m in run.training.modes)
                     + "; peak memory vs full: " + ", ".join(f"{k} {v:.2f}x" for k, v in
                                                             run.training.memory_ratios.items()))
        lines.append(f"  course recipe vs naive: {run.training.recipe.speedup:.2f}x the trained tokens/s")
    if run.grading:
        lines.append("  make grade: " + ", ".join(f"{g.part} {g.seconds:.0f} s ({g.score}/{g.total})"
                                                  for g in run.grading))
    return "\n".join(lines)


class BenchFile(BaseModel):
    """``build/bench/bench.json``: the latest run of each CPU kind (``native``, ``avx2``)."""

    runs: dict[str, BenchRun] = Field(default_factory=dict)


def read_bench(path: Path = BENCH_PATH) -> BenchFile:
    """The file at ``path``; an empty :class:`BenchFile` where there is none or it no longer fits the schema."""
    try:
        return BenchFile.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, json.JSONDecodeError):
        return BenchFile()


def merge_run(run: BenchRun, path: Path = BENCH_PATH) -> BenchFile:
    """Write ``run`` into the file at ``path`` under its CPU kind; sections it did not measure keep the last run's.

    Returns:
        The file as written.
    """
    bench = read_bench(path)
    old = bench.runs.get(run.machine.kind)
    if old is not None:
        for section in ("notebooks", "inference", "training", "grading"):
            if getattr(run, section) is None:
                setattr(run, section, getattr(old, section))
    bench.runs[run.machine.kind] = run
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(bench.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return bench
