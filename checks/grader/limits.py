"""How long grading may take, per part: sized from each solution's own run, in one place.

A learner's cell that never ends (an endless loop, ``input()`` waiting for nobody) must not keep
the learner waiting for the challenge's training time. Each part gets

* a **cell limit**: one code cell is stopped after it and named in the report (the notebook's
  later cells still run);
* a **check limit**: the same for one check (which may call the learner's code);
* a **notebook limit**: all code cells together; cells not started by then are skipped;
* a **checks limit**: the object checks in the notebook's process, and again the artifact checks
  in the clean process.

The solution's times come from the course table (:data:`checks.course.NOTEBOOKS`, measured under the AVX2
stand-in, the slowest CPU the workshop supports); the limits are a multiple of them, with a floor for start-up
jitter.

A slower or busy machine (another heavy process on the same cores) gets proportionally more time:
``make grade`` runs a speed test of a few seconds first (:func:`measure_machine`) and multiplies
every limit by how much slower than the reference machine it ran, never by less than 1; when the
other cores are busy, the graded notebook runs on one thread, which is then much faster.

One budget is not a grading limit but a design rule: a notebook's ``check()`` cell answers within
:data:`CHECK_BUDGET_S` (``make bench`` flags the cells over it).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass

from checks import course

CELL_FACTOR, NOTEBOOK_FACTOR = 2.5, 2.0
"""Limits are these multiples of the solution's slowest cell or check, and of all its cells or checks."""
MIN_CELL_S, MIN_CHECK_S, MIN_NOTEBOOK_S = 30.0, 10.0, 60.0
"""Floors: importing torch and transformers alone takes 5-10 s on a cold cache."""
GRACE_S = 30.0
"""Added to the sum before the parent kills a child that ignores the limits (a cell stuck in C code)."""
CHECK_BUDGET_S = 10.0
"""What one ``check(part, task)`` cell in a notebook may take on a laptop CPU (the AVX2 stand-in), in seconds: what a
learner waits for after asking. A check needing more is :attr:`checks.grader.registry.Check.grading_only` (it runs in
``make grade`` only). ``make bench`` measures every ``helpers.check`` cell of the solutions and flags each one over
this budget (:attr:`checks.bench.report.CheckTime.over_budget`, exit status 1). Not a grading limit: the
grader stops a check after :attr:`Limits.check_s`."""


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
        ValueError: ``part`` is not in the course table, or ``scale`` or ``speed`` is not a positive number.
    """
    for name, value in (("scale", scale), ("speed", speed)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    times = course.notebook(part).solution
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
import statistics, time
import torch
torch.manual_seed(0)
x, w, w2 = torch.randn(312, 576), torch.randn(576, 576), torch.randn(576, 1536)
def once():
    started = time.perf_counter()
    for _ in range(30):    # many small operators, as in a training step of SmolLM2 (hidden size 576)
        torch.nn.functional.silu(x @ w2)
        ((x @ w) + x).softmax(-1)
    return time.perf_counter() - started
def median():
    once()
    return statistics.median(once() for _ in range(5))
threads = torch.get_num_threads()
default = median()
torch.set_num_threads(1)
print(default, median(), threads)
"""
"""The speed test, in a fresh process like the graded notebook's: the median of 5 rounds of 30 small fp32 operator
pairs (312 x 576 activations: a batch of 4 tickets), first on torch's default threads, then on one; prints both
medians in seconds and the default thread count. About 3 s with the process start."""
SPEED_TEST_TIMEOUT_S = 60.0
"""Seconds the speed test may take (about 3 normally) before :func:`measure_machine` gives up and leaves the limits
as they are."""
REFERENCE_SPEED_TEST_S = 0.184
"""The speed test's default-threads median under the AVX2 stand-in on a 2-core Intel Xeon (AVX-512 BF16, AMX), quiet,
2026-12-06: 0.184 s on 2 threads, 0.32 s on one. The solution times of :data:`checks.course.NOTEBOOKS` come from a
2-core AMD EPYC under the same stand-in, whose LoRA step was slower (1.00 s against this Xeon's 0.62 s,
``helpers.challenge.pace``), so a machine like that EPYC gets its limits stretched about 1.6 x: on the generous
side. Natively with AVX-512 BF16: 0.134 s
and 0.22 s; with two other processes keeping both cores busy: 0.27-0.69 s on 2 threads, 0.27-0.34 s on one."""
MAX_SCALE = 10.0
"""Limits grow at most this much: a machine 10 x slower than the reference is too slow for the workshop."""
SHARED_CORES = 0.75
"""When the default threads take more than this share of one thread's time, the other cores are busy (quiet, 2
threads take 0.56 of it): the graded notebook then runs on one thread. torch's threads wait for each other at every
operator, and on cores another process holds that waiting dominates: 20 LoRA training steps under two busy processes
took 62 s on 2 threads and 24 s on 1 (10 s quiet on 2; 2-core Intel Xeon, 2026-12-06)."""


@dataclass(frozen=True)
class Machine:
    """What :func:`measure_machine` found when grading started.

    Attributes:
        speed: the speed test's time over :data:`REFERENCE_SPEED_TEST_S` (0.9 on a fast CPU, 3 on a busy one).
        single_thread: the other cores are busy; the graded notebook runs on one CPU thread.
        note: one line for the learner when the limits grow or the threads change, else ``""``.
    """

    speed: float = 1.0
    single_thread: bool = False
    note: str = ""

    @property
    def env(self) -> dict[str, str]:
        """Environment variables for the graded notebook's processes."""
        return {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"} if self.single_thread else {}


def _speed_test() -> tuple[float, float, int]:
    """Run :data:`SPEED_TEST` in a fresh Python process: ``(seconds on default threads, seconds on one, threads)``.

    Raises:
        RuntimeError: the test did not print its numbers within :data:`SPEED_TEST_TIMEOUT_S`.
    """
    try:
        done = subprocess.run([sys.executable, "-c", SPEED_TEST], capture_output=True, text=True,
                              timeout=SPEED_TEST_TIMEOUT_S, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        default, one, threads = done.stdout.split()[-3:]
        return float(default), float(one), int(threads)
    except (subprocess.TimeoutExpired, ValueError) as err:
        raise RuntimeError(f"the grader's speed test failed: {err}") from err


def measure_machine() -> Machine:
    """How fast this machine is now, and whether its other cores are busy (a few seconds).

    If the test cannot run, the limits and threads stay as they are and the note says why.
    """
    try:
        default, one, threads = _speed_test()
    except RuntimeError as err:
        return Machine(note=f"Time limits unchanged: {err}.")
    single = threads > 1 and default > SHARED_CORES * one
    seconds = one if single else default
    speed = seconds / REFERENCE_SPEED_TEST_S
    if speed <= 1.0 and not single:
        return Machine(speed=speed)
    parts = []
    if single:
        parts.append(f"the other CPU cores are busy ({threads} threads ran the speed test no faster than one), so "
                     "your notebook runs on one thread")
    if speed > 1.0:
        parts.append(f"time limits x{min(speed, MAX_SCALE):.1f}: the speed test took {seconds:.3f} s, {speed:.1f} "
                     f"times the {REFERENCE_SPEED_TEST_S} s of the machine they were measured on")
    note = "; ".join(parts)
    return Machine(speed=speed, single_thread=single, note=note[:1].upper() + note[1:] + ".")
