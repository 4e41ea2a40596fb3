"""The grade's one schema: a check's result, a notebook's report, and ``make grade``'s report file.

The grader builds these objects (:mod:`checks.grader.registry` runs a check, :mod:`checks.grader.runner` grades a
notebook file), the renderer shows them (:mod:`checks.grader.report`), ``make grade`` writes them to
``build/grades/report.json`` (:func:`write_report`) and the Reflection's self-assessment reads them back
(:func:`read_report`)::

    {"about": str, "score": int, "total": int, "bonus_score": int, "bonus_total": int,
     "notebooks": [{"notebook": str, "part": str, "seconds": float, "problem": str, "graded_at": str,
                    "cell_errors": [{"cell": int, "error": str}],
                    "results": [{"name": str, "task": str, "passed": bool, "message": str, "hint": str,
                                 "points": int, "seconds": float, "ran": bool, "caught_up": bool,
                                 "stopped": bool, "optional": bool}],
                    "score": int, "total": int, "bonus_score": int, "bonus_total": int}]}

Derived values are computed, never read: a result's ``optional`` comes from its task's name
(:func:`is_optional`), and every ``score``/``total``/``bonus_score``/``bonus_total`` from the results' points by
:meth:`Score.of` (``score``/``total`` count the core checks, the ``bonus_`` pair the optional ones). Reading a file
ignores the derived keys (and any other unknown key), so a report written by an older grader still reads. A
caught-up check (the learner took the task's catch-up) earns no points.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, computed_field
from typing_extensions import TypedDict

from checks.course import OPTIONAL_PREFIX
from helpers.jsonfile import describe, read_json, write_json
from helpers.paths import GRADE_REPORT

ABOUT = ("A self-assessment. Checks that read your saved files (the adapter's score on the hidden test split, the "
         "inference script, the staged Hub repositories) run in a clean process that never ran your notebook's code. "
         "Every other check inspects your notebook's live objects in its own process and is tamper-evident only: a "
         "cell that replaces the grading code or a function the checks call is caught, a determined learner can "
         "still fool it. Grading runs on a copy of outputs/: your files are never changed.")
"""What a grade proves, in the words ``make grade``, the report file, the README and the instructor guide use."""


class ReportError(ValueError):
    """The grade report exists but cannot be used; the message names the file and says to run ``make grade``."""


def is_optional(task: str) -> bool:
    """Whether ``task`` (a check's task name) is optional: its name starts with :data:`checks.course.OPTIONAL_PREFIX`
    (``"Bonus A: fit_prompt"``); such checks are scored apart from the core."""
    return task.startswith(OPTIONAL_PREFIX)


class CheckResult(BaseModel):
    """The outcome of one check.

    Attributes:
        name: what the check verifies.
        task: the notebook task it belongs to, e.g. ``"Task 2: generate_text"``.
        passed: whether it passed (a check that did not run did not pass).
        message: ``"ok"``, or why it failed or did not run, for the learner.
        hint: what to look at when it failed.
        points: its weight in the score.
        seconds: how long it ran, in seconds (0 when it did not run).
        ran: ``False`` when the check could not run at all (a broken file, a stopped or modified grading, a check
            that runs in ``make grade`` only); the report's ``problem`` or the message says why.
        caught_up: ``True`` when the learner took the task's catch-up: not run, no points.
        stopped: ``True`` when a time limit cut the check short: it was stopped at its limit, or it called a
            notebook function that a limit had stopped before (which now fails at once). Its message says so; the
            grader adds no pointer to the notebook's problem.
        optional: computed from ``task`` (:func:`is_optional`): scored apart from the core. Written to JSON,
            never read from it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    task: str
    passed: StrictBool
    message: str = ""
    hint: str = ""
    points: StrictInt = 1
    seconds: float = 0.0
    ran: StrictBool = True
    caught_up: StrictBool = False
    stopped: StrictBool = False

    @computed_field
    @property
    def optional(self) -> bool:
        """Whether the check's task is optional (:func:`is_optional`)."""
        return is_optional(self.task)


class Score(BaseModel):
    """Points of a list of results, the core and the optional (Bonus) tasks apart: the one place points are summed.

    Attributes:
        core: points of the passed core checks.
        core_total: points of all core checks.
        bonus: points of the passed optional checks.
        bonus_total: points of all optional checks.
    """

    model_config = ConfigDict(frozen=True)

    core: int
    core_total: int
    bonus: int
    bonus_total: int

    @classmethod
    def of(cls, results: Iterable[CheckResult]) -> Score:
        """Sum the points of ``results`` (a failed, caught-up or not-run check earns none)."""
        results = list(results)
        core = [r for r in results if not r.optional]
        bonus = [r for r in results if r.optional]
        return cls(core=sum(r.points for r in core if r.passed), core_total=sum(r.points for r in core),
                   bonus=sum(r.points for r in bonus if r.passed), bonus_total=sum(r.points for r in bonus))

    def text(self) -> str:
        """``"core 12/12 · bonus (optional) 3/9"`` (no bonus part when there are no optional checks)."""
        return f"core {self.core}/{self.core_total}" + (
            f" · bonus (optional) {self.bonus}/{self.bonus_total}" if self.bonus_total else "")


class _Scored(BaseModel):
    """The four scores of a report, computed from :attr:`points` (written to JSON, never read from it)."""

    @property
    def points(self) -> Score:
        raise NotImplementedError

    @computed_field
    @property
    def score(self) -> int:
        """Points of the passed core checks."""
        return self.points.core

    @computed_field
    @property
    def total(self) -> int:
        """Points of all core checks."""
        return self.points.core_total

    @computed_field
    @property
    def bonus_score(self) -> int:
        """Points of the passed optional (Bonus) checks."""
        return self.points.bonus

    @computed_field
    @property
    def bonus_total(self) -> int:
        """Points of all optional (Bonus) checks."""
        return self.points.bonus_total


class CellError(TypedDict):
    """A code cell that raised while the notebook ran.

    Attributes:
        cell: the cell's number, counting code cells from 1.
        error: ``"ExceptionName: message"`` (at most 500 characters).
    """

    cell: int
    error: str


class GradeReport(_Scored):
    """The result of grading one notebook with one part.

    Attributes:
        notebook: path of the graded notebook (``make grade`` writes it repository-relative).
        part: autograder part name.
        results: one :class:`CheckResult` per check of the part.
        cell_errors: the cells that raised while the notebook ran.
        seconds: wall time of the whole grading, in seconds.
        problem: why the notebook could not be graded normally (a stopped cell, a crash, modified grading code),
            or ``""``.
        graded_at: local time of grading, ``"YYYY-MM-DD HH:MM:SS"`` (set by ``make grade``; ``""`` before).
        score, total, bonus_score, bonus_total: computed from ``results`` (:attr:`points`).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    notebook: str = ""
    part: str
    results: list[CheckResult]
    cell_errors: list[CellError] = []
    seconds: float = 0.0
    problem: str = ""
    graded_at: str = ""

    @property
    def points(self) -> Score:
        """The core and optional points of :attr:`results`, apart."""
        return Score.of(self.results)


class GradeBook(_Scored):
    """The whole report file: the latest :class:`GradeReport` of every part; its scores add up all their results.

    Attributes:
        about: what a grade proves (:data:`ABOUT`).
        notebooks: one report per graded part.
        score, total, bonus_score, bonus_total: computed from every notebook's results (:attr:`points`).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    about: str = ABOUT
    notebooks: list[GradeReport]

    @property
    def points(self) -> Score:
        """The core and optional points of every notebook's results, apart."""
        return Score.of(r for n in self.notebooks for r in n.results)

    @classmethod
    def of(cls, notebooks: Iterable[GradeReport]) -> GradeBook:
        """A report of ``notebooks``, sorted by part."""
        return cls(notebooks=sorted(notebooks, key=lambda n: n.part))


def read_report(path: str | Path = GRADE_REPORT) -> GradeBook | None:
    """The report at ``path`` (default :data:`helpers.paths.GRADE_REPORT`), or ``None`` when there is no file.

    Raises:
        ReportError: the file cannot be read, is not JSON or does not fit :class:`GradeBook`; the message
            names the file and says to run ``make grade`` again.
    """
    return read_json(path, GradeBook, what=describe(path, "The grade report"),
                     again="Run `make grade` again to rewrite it.", error=ReportError)


def write_report(report: GradeBook, path: str | Path = GRADE_REPORT) -> Path:
    """Write ``report`` to ``path`` atomically (creating folders), its computed scores included; returns the path."""
    return write_json(report, path)
