"""How long grading may take, per part: sized from each solution's own run, in one place.

A learner's cell that never ends (an endless loop, ``input()`` waiting for nobody) must not keep
the learner waiting for the challenge's training time. Each part gets

* a **cell limit**: one code cell is stopped after it and named in the report (the notebook's
  later cells still run);
* a **check limit**: the same for one check (which may call the learner's code);
* a **notebook limit**: all code cells together; cells not started by then are skipped;
* a **checks limit**: the object checks in the notebook's process, and again the artifact checks
  in the clean process.

The solution's times below were measured by running each solution's code cells under the AVX2
stand-in (``ATEN_CPU_CAPABILITY=avx2``, 2-core AMD EPYC, December 2026), the slowest CPU the
workshop supports; the limits are a multiple of them, with a floor for start-up jitter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CELL_FACTOR, NOTEBOOK_FACTOR = 2.5, 2.0
"""Limits are these multiples of the solution's slowest cell or check, and of all its cells or checks."""
MIN_CELL_S, MIN_CHECK_S, MIN_NOTEBOOK_S = 30.0, 10.0, 60.0
"""Floors: importing torch and transformers alone takes 5-10 s on a cold cache."""
GRACE_S = 30.0
"""Added to the sum before the parent kills a child that ignores the limits (a cell stuck in C code)."""


@dataclass(frozen=True)
class SolutionTimes:
    """The solution's measured run of one part (seconds, AVX2 stand-in)."""

    slowest_cell_s: float
    notebook_s: float
    slowest_check_s: float
    checks_s: float


SOLUTION_TIMES: dict[str, SolutionTimes] = {
    "concept": SolutionTimes(slowest_cell_s=9.6, notebook_s=13.1, slowest_check_s=0.5, checks_s=1.1),
    "demo": SolutionTimes(slowest_cell_s=6.2, notebook_s=19.1, slowest_check_s=0.1, checks_s=0.1),
    "exercise": SolutionTimes(slowest_cell_s=13.3, notebook_s=48.3, slowest_check_s=5.6, checks_s=42.0),
    "challenge": SolutionTimes(slowest_cell_s=123.7, notebook_s=533.8, slowest_check_s=135.0, checks_s=230.0),
    "reflection": SolutionTimes(slowest_cell_s=5.2, notebook_s=5.9, slowest_check_s=2.6, checks_s=4.7),
}
"""Per part: the slowest code cell, all code cells, the slowest check, all checks (object and artifact together).
The cells were timed under the AVX2 stand-in. The checks were timed on the AVX-512 BF16 EPYC (``make grade``'s
report: exercise 26.5 s, slowest 3.5 s; challenge 13 s in the notebook's process and 56 s in the clean one, the
test-split score 41 s) and scaled to AVX2: x1.6 for the exercise (the ratio of its notebook times), x3.3 for the
challenge (generation: the base model's test-split score takes 15 s there and 50 s under AVX2)."""


@dataclass(frozen=True)
class Limits:
    """Time limits of one part, in seconds."""

    cell_s: float
    notebook_s: float
    checks_s: float
    check_s: float = 0.0
    """One check; ``0`` means the cell limit."""

    @property
    def total_s(self) -> float:
        """When the parent stops the notebook's process however it behaves: every limit plus :data:`GRACE_S`."""
        return self.notebook_s + self.checks_s + GRACE_S


def limits_for(part: str, scale: float = 1.0) -> Limits:
    """The limits of ``part``, each multiplied by ``scale`` (``make grade --slower 2`` on a slow or busy machine).

    Raises:
        ValueError: no times are recorded for ``part``.
    """
    if part not in SOLUTION_TIMES:
        raise ValueError(f"No time limits for part {part!r}: add its solution's times to grader.limits.SOLUTION_TIMES.")
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    times = SOLUTION_TIMES[part]
    return Limits(
        cell_s=scale * max(MIN_CELL_S, CELL_FACTOR * times.slowest_cell_s),
        notebook_s=scale * max(MIN_NOTEBOOK_S, NOTEBOOK_FACTOR * times.notebook_s),
        checks_s=scale * max(MIN_NOTEBOOK_S, NOTEBOOK_FACTOR * times.checks_s),
        check_s=scale * max(MIN_CHECK_S, CELL_FACTOR * times.slowest_check_s),
    )
