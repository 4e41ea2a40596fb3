"""Autograding: the same check definitions for notebooks, pytest and ``make grade``.

* In a notebook: ``check("demo")`` grades the live kernel's variables at once.
* From a terminal: ``make grade`` (``python -m grader``) runs each
  notebook in a fresh process and prints a score table.
* In pytest: :func:`grade_notebook` returns a :class:`GradeReport`.
"""

from __future__ import annotations

import os
import sys

from grader.registry import (
    Check,
    CheckFailed,
    CheckResult,
    Part,
    available_parts,
    expect,
    load_part,
    prerequisite,
    require,
    run_checks,
)
from grader.report import format_results, results_html
from grader.runner import GRADING_ENV, SOLUTION_KEY, GradeReport, grade_notebook, grade_variants

__all__ = [
    "SOLUTION_KEY", "Check", "CheckFailed", "CheckResult", "GradeReport", "Part", "available_parts", "check",
    "expect", "grade_notebook", "grade_variants", "load_part", "prerequisite", "require", "run_checks",
]


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

    Returns:
        The results (also displayed as a table), or ``None`` while the notebook is
        being graded by ``make grade`` (the grader runs the checks itself).

    Raises:
        ValueError: unknown part or task; the message lists the valid ones.
    """
    if os.environ.get(GRADING_ENV) == "1":
        return None
    definition = load_part(part)
    results = run_checks(definition, _notebook_namespace(), task, live=True)
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
