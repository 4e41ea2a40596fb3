"""The grade report (``build/grades/report.json``): one schema for the grader that writes it and the Reflection.

``make grade`` keeps the latest result of every autograder part::

    {"score": int, "total": int, "bonus_score": int, "bonus_total": int, "about": str,
     "notebooks": [{"notebook": str, "part": str, "score": int, "total": int, "bonus_score": int,
                    "bonus_total": int, "seconds": float, "problem": str, "graded_at": str,
                    "cell_errors": [{"cell": int, "error": str}],
                    "results": [{"name": str, "task": str, "passed": bool, "message": str, "hint": str,
                                 "points": int, "seconds": float, "ran": bool, "caught_up": bool,
                                 "optional": bool}]}]}

``score``/``total`` count the core checks; ``bonus_score``/``bonus_total`` the optional ones (tasks named
"Bonus ..."). A caught-up check (the learner took the task's catch-up) earns no points.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt

from helpers.jsonfile import describe, read_json, write_json
from helpers.paths import GRADE_REPORT

OPTIONAL_PREFIX = "Bonus"
"""A task whose name starts with this is optional (if time is left / at home): its results carry ``optional`` and are
scored apart from the core (the grader's ``grader.registry.is_optional`` and the self-assessment use this one value)."""


ABOUT = ("A self-assessment. Checks that read your saved files (the adapter's score on the hidden test split, the "
         "inference script, the staged Hub repositories) run in a clean process that never ran your notebook's code. "
         "Every other check inspects your notebook's live objects in its own process and is tamper-evident only: a "
         "cell that replaces the grading code or a function the checks call is caught, a determined learner can "
         "still fool it. Grading runs on a copy of outputs/: your files are never changed.")
"""What a grade proves, in the words ``make grade``, the report file, the README and the instructor guide use."""


class ReportError(ValueError):
    """The grade report exists but cannot be used; the message names the file and says to run ``make grade``."""


class GradedResult(BaseModel):
    """One check's outcome."""

    model_config = ConfigDict(extra="ignore")

    name: str
    task: str
    passed: StrictBool
    message: str = ""
    hint: str = ""
    points: StrictInt = 1
    seconds: float = 0.0
    ran: StrictBool = True
    """``False``: the check could not run (a broken file, a stopped or modified grading); ``problem`` says why."""
    caught_up: StrictBool = False
    """``True``: the learner took the task's catch-up; no points."""
    optional: StrictBool = False
    """``True``: an optional (Bonus) task's check, scored apart from the core."""


class GradedNotebook(BaseModel):
    """One graded notebook: its part and one result per check."""

    model_config = ConfigDict(extra="ignore")

    notebook: str = ""
    part: str
    score: StrictInt = 0
    total: StrictInt = 0
    bonus_score: StrictInt = 0
    bonus_total: StrictInt = 0
    seconds: float = 0.0
    problem: str = ""
    graded_at: str = ""
    cell_errors: list[dict[str, Any]] = []
    results: list[GradedResult]


class GradeBook(BaseModel):
    """The whole report; the scores add up the notebooks'."""

    score: StrictInt = 0
    total: StrictInt = 0
    bonus_score: StrictInt = 0
    bonus_total: StrictInt = 0
    about: str = ABOUT
    """What a grade proves (:data:`ABOUT`)."""
    notebooks: list[GradedNotebook]

    @classmethod
    def of(cls, notebooks: Sequence[GradedNotebook | dict[str, Any]]) -> GradeBook:
        """A report of ``notebooks`` (validated), sorted by part, with the totals summed."""
        entries = sorted((GradedNotebook.model_validate(n) for n in notebooks), key=lambda n: n.part)
        return cls(score=sum(n.score for n in entries), total=sum(n.total for n in entries),
                   bonus_score=sum(n.bonus_score for n in entries), bonus_total=sum(n.bonus_total for n in entries),
                   notebooks=entries)


def read_report(path: str | Path = GRADE_REPORT) -> GradeBook | None:
    """The report at ``path``, or ``None`` when there is no file.

    Raises:
        ReportError: the file cannot be read, is not JSON or does not fit :class:`GradeBook`; the message
            names the file and says to run ``make grade`` again.
    """
    return read_json(path, GradeBook, what=describe(path, "The grade report"),
                     again="Run `make grade` again to rewrite it.", error=ReportError)


def write_report(report: GradeBook, path: str | Path = GRADE_REPORT) -> Path:
    """Write ``report`` to ``path`` atomically (creating folders); returns the path."""
    return write_json(report, path)
