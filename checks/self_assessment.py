"""The workshop's five self-assessment questions, answered from the learner's latest grade report.

``make grade`` writes ``build/grades/report.json`` (:class:`checks.grader.schema.GradeBook`): per graded notebook, its
part (``"demo"``, ``"exercise"``, ``"concept"``, ``"challenge"``) and one result per check (task, name, passed).
The course table's :data:`checks.course.QUESTIONS` maps each question to those checks by (part, task keyword). Only
the **core** checks answer it (optional tasks, named "Bonus ...", are shown beside it as the at-home column); a
question is

* ``"ticked"`` when every matching core check passed,
* ``"not yet"`` when some failed or were caught up (up to :data:`MAX_LISTED` check names and what to revisit),
* ``"not graded"`` when the report has no matching core check, or lacks a part the question asks about (run
  ``make grade``).

>>> assessment = self_assess()                  # reads build/grades/report.json
>>> print(assessment.note)
>>> pd.DataFrame(assessment.rows())

Importing this module stays light (the standard library, pydantic and the report's schema; no torch): the
Reflection's cell imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from checks.course import QUESTIONS, Question
from checks.grader import schema
from checks.grader.schema import ReportError, is_optional
from helpers.paths import GRADE_REPORT, shown_path

DEFAULT_REPORT = GRADE_REPORT
"""Where ``make grade`` writes its report (:data:`helpers.paths.GRADE_REPORT`)."""

Status = Literal["ticked", "not yet", "not graded"]

MARKS: dict[Status, str] = {"ticked": "✅", "not yet": "❌", "not graded": "–"}
"""How each status is shown in the table."""

MAX_LISTED = 3
"""At most this many failing check names are listed per question."""


@dataclass(frozen=True)
class GradedCheck:
    """One check result taken from a grade report.

    Attributes:
        part: autograder part, e.g. ``"exercise"``.
        task: the task the check belongs to, e.g. ``"Task 2: generate_text"``.
        name: what the check verifies.
        passed: whether it passed.
    """

    part: str
    task: str
    name: str
    passed: bool

    @property
    def optional(self) -> bool:
        """Whether it belongs to an optional (Bonus) task (:func:`checks.grader.schema.is_optional`)."""
        return is_optional(self.task)


@dataclass(frozen=True)
class Answer:
    """The answer to one question.

    Attributes:
        question: the question's text.
        status: ``"ticked"``, ``"not yet"`` or ``"not graded"``.
        passed: matching core checks that passed.
        total: matching core checks in the report (0 when not graded).
        failing: names of every failing matching core check, in report order.
        advice: one sentence on what to do next.
        at_home_passed: matching optional (Bonus) checks that passed.
        at_home_total: matching optional checks in the report.
    """

    question: str
    status: Status
    passed: int
    total: int
    failing: tuple[str, ...]
    advice: str
    at_home_passed: int = 0
    at_home_total: int = 0

    @property
    def mark(self) -> str:
        """``"✅"``, ``"❌"`` or ``"–"``."""
        return MARKS[self.status]


@dataclass(frozen=True)
class SelfAssessment:
    """All five answers and where they come from.

    Attributes:
        answers: one :class:`Answer` per entry of :data:`checks.course.QUESTIONS`, in order.
        note: one line about the report: what it covers, or why there is none to use.
    """

    answers: tuple[Answer, ...]
    note: str

    def rows(self) -> list[dict[str, str]]:
        """Table rows: ``{"question", "answer", "core checks passed", "at home (optional)", "next step"}``, strings."""
        return [
            {"question": a.question, "answer": a.mark,
             "core checks passed": f"{a.passed}/{a.total}" if a.total else "–",
             "at home (optional)": f"{a.at_home_passed}/{a.at_home_total}" if a.at_home_total else "–",
             "next step": a.advice}
            for a in self.answers
        ]


def read_checks(path: str | Path = DEFAULT_REPORT) -> list[GradedCheck] | None:
    """Every check result in a grade report, in file order.

    Args:
        path: the JSON report written by ``make grade`` (default :data:`DEFAULT_REPORT`).

    Returns:
        A list of :class:`GradedCheck` (possibly empty), or ``None`` when there is no file at ``path``.

    Raises:
        ReportError: the file cannot be read, is not JSON, or does not fit the report's schema
            (:class:`checks.grader.schema.GradeBook`); the message names the file and says to run ``make grade``.
    """
    report = schema.read_report(path)
    if report is None:
        return None
    return [GradedCheck(n.part, r.task, r.name, r.passed) for n in report.notebooks for r in n.results]


def matches(question: Question, check: GradedCheck) -> bool:
    """Whether ``check`` is evidence for ``question`` (same part, task contains a keyword, any case)."""
    return any(check.part == part and keyword.lower() in check.task.lower() for part, keyword in question.checks)


def answer(question: Question, checks: Sequence[GradedCheck]) -> Answer:
    """Answer one question from the checks of a report.

    Args:
        question: a :class:`checks.course.Question`, usually from :data:`checks.course.QUESTIONS`.
        checks: results from :func:`read_checks` (may be empty).

    Returns:
        An :class:`Answer` from the matching **core** checks: ``"ticked"`` if every one passed, ``"not yet"`` if
        some failed (advice lists up to :data:`MAX_LISTED` failing names and what to revisit), ``"not graded"`` if
        none match. Matching optional checks only fill the at-home counts.
    """
    matching = [c for c in checks if matches(question, c)]
    relevant = [c for c in matching if not c.optional]
    at_home = [c for c in matching if c.optional]
    extra = {"at_home_passed": sum(c.passed for c in at_home), "at_home_total": len(at_home)}
    failing = tuple(c.name for c in relevant if not c.passed)
    passed = len(relevant) - len(failing)
    graded_parts = {c.part for c in checks}
    ungraded = sorted({part for part, keyword in question.checks
                       if not is_optional(keyword) and part not in graded_parts})
    if not relevant or (ungraded and not failing):  # a tick needs every notebook the question asks about
        waiting = f" ({', '.join(ungraded)} not graded)" if relevant else ""
        return Answer(question.text, "not graded", passed, len(relevant), (), (
            f"Not graded yet{waiting}: work through {question.revisit}, save, then run `make grade`."), **extra)
    if not failing:
        return Answer(question.text, "ticked", passed, len(relevant), (), "Nothing to revisit.", **extra)
    listed = "; ".join(f"'{name}'" for name in failing[:MAX_LISTED])
    more = f" (+{len(failing) - MAX_LISTED} more)" if len(failing) > MAX_LISTED else ""
    return Answer(question.text, "not yet", passed, len(relevant), failing,
                  f"Revisit {question.revisit}. Failing: {listed}{more}.", **extra)


def assess(checks: Sequence[GradedCheck] | None, questions: Sequence[Question] = QUESTIONS) -> tuple[Answer, ...]:
    """Answer every question; ``checks=None`` (no report) answers all of them ``"not graded"``."""
    return tuple(answer(q, checks or ()) for q in questions)


def self_assess(path: str | Path = DEFAULT_REPORT) -> SelfAssessment:
    """Read the grade report at ``path`` and answer the five questions; never raises for a bad report.

    Args:
        path: the JSON report written by ``make grade`` (default :data:`DEFAULT_REPORT`).

    Returns:
        A :class:`SelfAssessment`. A missing, unreadable or malformed report gives every question
        ``"not graded"`` and a :attr:`~SelfAssessment.note` saying what happened and to run ``make grade``.
    """
    where = shown_path(path)
    try:
        checks = read_checks(path)
    except ReportError as err:
        return SelfAssessment(assess(None), str(err))
    if checks is None:
        note = (f"No grade report yet ({where}): run `make grade` in a terminal (it grades your saved "
                "notebooks), then re-run this cell.")
        return SelfAssessment(assess(None), note)
    parts = sorted({c.part for c in checks})
    core = [c for c in checks if not c.optional]
    covered = ", ".join(parts) if parts else "none"
    note = (f"From {where}: {sum(c.passed for c in core)}/{len(core)} core checks passed "
            f"(optional: {sum(c.passed for c in checks if c.optional)}/{len(checks) - len(core)}); "
            f"graded parts: {covered}.")
    return SelfAssessment(assess(checks), note)
