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

A slower or busy machine (another heavy process on the same cores) gets proportionally more time:
``make grade`` runs a one-second speed test first (:func:`measure_machine`) and multiplies every
limit by how much slower than the reference machine it ran, never by less than 1.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
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
    "challenge": SolutionTimes(slowest_cell_s=123.7, notebook_s=533.8, slowest_check_s=135.0, checks_s=280.0),
    "reflection": SolutionTimes(slowest_cell_s=5.2, notebook_s=5.9, slowest_check_s=2.6, checks_s=4.7),
}
"""Per part: the slowest code cell, all code cells, the slowest check, all checks (object and artifact together).
The cells were timed under the AVX2 stand-in. The checks were timed on the AVX-512 BF16 EPYC (``make grade``'s
report: exercise 26.5 s, slowest 3.5 s; challenge 13 s in the notebook's process and 56 s in the clean one, the
test-split score 41 s) and scaled to AVX2: x1.6 for the exercise (the ratio of its notebook times), x3.3 for the
challenge (generation: the base model's test-split score takes 15 s there and 50 s under AVX2). The challenge's
checks gained 50 s when the inference-script check began running the script twice and generating its own answers
(15 s more on the EPYC, 2026-12-06)."""


@dataclass(frozen=True)
class Limits:
    """Time limits of one part, in seconds."""

    cell_s: float
    notebook_s: float
    checks_s: float
    check_s: float = 0.0
    """One check; ``0`` means the cell limit."""
    solution_cell_s: float = 0.0
    """How long the solution's slowest cell takes on this machine (its measured time times the scale); ``0``:
    unknown. Timeout messages quote it."""
    solution_notebook_s: float = 0.0
    """How long all the solution's cells take on this machine; ``0``: unknown."""

    @property
    def total_s(self) -> float:
        """When the parent stops the notebook's process however it behaves: every limit plus :data:`GRACE_S`."""
        return self.notebook_s + self.checks_s + GRACE_S


def limits_for(part: str, scale: float = 1.0, speed: float = 1.0) -> Limits:
    """The limits of ``part`` on a machine ``speed`` times as slow as the reference, each multiplied by ``scale``.

    Args:
        part: autograder part name.
        scale: an extra factor (``make grade ARGS="--slower 2"``).
        speed: what :func:`measure_machine` measured: the solution's times here are its times there times ``speed``;
            the limits grow with it but never shrink (``max(1, speed)``).

    Raises:
        ValueError: no times are recorded for ``part``.
    """
    if part not in SOLUTION_TIMES:
        raise ValueError(f"No time limits for part {part!r}: add its solution's times to grader.limits.SOLUTION_TIMES.")
    for name, value in (("scale", scale), ("speed", speed)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    times = SOLUTION_TIMES[part]
    here = speed
    scale = scale * min(max(1.0, speed), MAX_SCALE)
    return Limits(
        cell_s=scale * max(MIN_CELL_S, CELL_FACTOR * times.slowest_cell_s),
        notebook_s=scale * max(MIN_NOTEBOOK_S, NOTEBOOK_FACTOR * times.notebook_s),
        checks_s=scale * max(MIN_NOTEBOOK_S, NOTEBOOK_FACTOR * times.checks_s),
        check_s=scale * max(MIN_CHECK_S, CELL_FACTOR * times.slowest_check_s),
        solution_cell_s=here * times.slowest_cell_s,
        solution_notebook_s=here * times.notebook_s,
    )


# --------------------------------------------------------------------------- how fast this machine is now

SPEED_TEST = """
import statistics, sys, time
import torch
torch.manual_seed(0)
a, b = torch.randn(256, 1024), torch.randn(1024, 1024)
def once():
    started = time.perf_counter()
    for _ in range(20):
        a @ b                      # the matrix products of a forward pass
    total = 0
    for i in range(200_000):       # the Python of a training or generation loop
        total += i
    return time.perf_counter() - started
once()
print(statistics.median(once() for _ in range(7)))
"""
"""The speed test: 7 rounds of 20 fp32 matrix products (256 x 1024 x 1024, torch's default threads) and a
200,000-step Python loop, in a fresh process like the graded notebook's; prints the median round in seconds."""
REFERENCE_SPEED_TEST_S = 0.055
"""The speed test's median round on the machine :data:`SOLUTION_TIMES` were measured on (2-core AMD EPYC under the
AVX2 stand-in, quiet, 2026-12-06: 0.053-0.055 s; natively with AVX-512 0.040 s; with two other processes keeping
both cores busy 0.093 s)."""
MAX_SCALE = 10.0
"""Limits grow at most this much: a machine 10 x slower than the reference is too slow for the workshop."""


def _speed_test_seconds() -> float:
    """Run :data:`SPEED_TEST` in a fresh Python process; its median round in seconds (about 3 s with start-up).

    Raises:
        RuntimeError: the test did not print a number within 60 s.
    """
    try:
        done = subprocess.run([sys.executable, "-c", SPEED_TEST], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        return float(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError) as err:
        raise RuntimeError(f"the grader's speed test failed: {err}") from err


def measure_machine() -> tuple[float, str]:
    """How slow this machine is now, for :func:`limits_for`: ``(speed, note)``.

    ``speed`` is the speed test's time over :data:`REFERENCE_SPEED_TEST_S` (0.7 on a fast CPU, 3 on a busy one);
    ``note`` says in one line that the limits grow, or is ``""`` when they do not (``speed <= 1``). If the test
    cannot run, ``speed`` is 1 and the note says why.
    """
    try:
        seconds = _speed_test_seconds()
    except RuntimeError as err:
        return 1.0, f"Time limits unchanged: {err}."
    speed = seconds / REFERENCE_SPEED_TEST_S
    if speed <= 1.0:
        return speed, ""
    return speed, (f"Time limits x{min(speed, MAX_SCALE):.1f}: this machine ran the grader's speed test in "
                   f"{seconds:.3f} s, {speed:.1f} times the {REFERENCE_SPEED_TEST_S} s of the machine they were "
                   "measured on (busy, or a slower CPU).")
