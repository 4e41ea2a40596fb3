"""Autograding: the same check definitions for notebooks, pytest and ``make grade``.

* In a notebook: ``check("demo")`` grades the live kernel's variables at once; a failing task's hint gets more
  specific on repeated attempts and then points to the task's catch-up (``catch_up("exercise", "Task 1")``).
* From a terminal: ``make grade`` (``python -m checks.grader``) runs each
  notebook in a fresh process and prints a score table.
* In pytest: :func:`grade_notebook` returns a :class:`GradeReport`.

Every result and report is one schema, :mod:`checks.grader.schema` (:class:`CheckResult`, :class:`GradeReport`,
the report file's :class:`~checks.grader.schema.GradeBook`).
"""

from __future__ import annotations

import os
import sys
from collections import Counter

from checks.grader.registry import (
    Check,
    CheckFailed,
    Part,
    available_parts,
    catch_up,
    expect,
    load_part,
    prerequisite,
    require,
    run_checks,
)
from checks.grader.report import format_results, results_html
from checks.grader.runner import GRADING_ENV, SOLUTION_KEY, grade_notebook, grade_variants
from checks.grader.schema import CheckResult, GradeReport, Score

__all__ = [
    "SOLUTION_KEY", "Check", "CheckFailed", "CheckResult", "GradeReport", "Part", "Score", "available_parts",
    "catch_up", "check", "expect", "grade_notebook", "grade_variants", "load_part", "prerequisite", "require",
    "run_checks",
]


FAILED_ATTEMPTS: Counter[tuple[str, str]] = Counter()
"""``{(part, task): number of check() calls in this kernel in which the task had a failing check}``."""

STUCK_AFTER = 3
"""From this many failed attempts at a task on, a failing check points to the task's catch-up cell."""


def escalate_hints(definition: Part, results: list[CheckResult]) -> list[CheckResult]:
    """Count this attempt's failing tasks and make their hints more specific on repeated failures.

    First failure: the check's hint. Second: the hint and its ``more_hint``. From the :data:`STUCK_AFTER`-th on, where
    the task has a catch-up: also where to find the catch-up cell.
    """
    by_name = {c.name: c for c in definition.checks}
    failing_tasks = {r.task for r in results if r.ran and not r.passed}
    for task in failing_tasks:
        FAILED_ATTEMPTS[(definition.name, task)] += 1
    escalated = []
    for r in results:
        attempts = FAILED_ATTEMPTS[(definition.name, r.task)]
        hint = r.hint
        if r.ran and not r.passed and attempts >= 2:
            more = by_name[r.name].more_hint if r.name in by_name else ""
            if more:
                hint = f"{hint} {more}"
            if attempts >= STUCK_AFTER and r.task in definition.catch_ups:
                hint += (f" Still stuck after {attempts} tries? The catch-up cell under this task's check gives a "
                         "working result so you can go on (this task then scores no points).")
        escalated.append(r.model_copy(update={"hint": hint}) if hint != r.hint else r)
    return escalated


def _notebook_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # plain Python without IPython
        shell = None
    if shell is not None:
        return shell.user_ns
    caller = sys._getframe(2)  # the frame that called check()
    return {**caller.f_globals, **caller.f_locals}


def check(part: str, task: str | None = None) -> list[CheckResult] | None:
    """Grade the current notebook's variables against ``part`` and show a feedback table.

    Args:
        part: autograder part, e.g. ``"demo"`` or ``"exercise"``.
        task: only the checks whose task name contains this text (e.g. ``"Task 2"``).

    A check too slow for a notebook (:attr:`Check.grading_only`) is listed as not run; ``make grade`` runs it.
    Core and optional (Bonus) checks are shown and scored apart; hints grow more specific on repeated failures
    (:func:`escalate_hints`).

    Returns:
        The results (also displayed as a table), or ``None`` while the notebook is
        being graded by ``make grade`` (the grader runs the checks itself).

    Raises:
        ValueError: unknown part or task; the message lists the valid ones.
    """
    if os.environ.get(GRADING_ENV) == "1":
        return None
    definition = load_part(part)
    results = escalate_hints(definition, run_checks(definition, _notebook_namespace(), task, live=True))
    title = f"Checks for {part}" + (f" ({task})" if task else "")
    note = None
    if not all(r.passed for r in results):  # a failure may be the library's, not the learner's: say so
        from helpers.versions import drift_note

        note = drift_note()
    try:
        from IPython import get_ipython
        from IPython.display import display

        in_kernel = get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except ImportError:
        in_kernel = False
    if in_kernel:
        bundle = {"text/html": results_html(results, title, note), "text/plain": format_results(results, title, note)}
        display(bundle, raw=True)
    else:
        print(format_results(results, title, note))
    return None if in_kernel else results
