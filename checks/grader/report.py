"""Render check results: a text table for terminals, HTML for notebooks (the JSON report: :mod:`checks.grader.schema`).

Core checks come first; the optional (Bonus) checks follow under their own heading, so a learner who did the whole
core sees a clean core result. The score line gives both apart (:class:`checks.grader.schema.Score`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from checks.grader.schema import CheckResult, Score

PASS, FAIL, CAUGHT_UP, NOT_RUN = "PASS", "FAIL", " UP ", "----"
BONUS_HEADING = "Bonus (optional: if time is left / at home)"


def not_started(results: Sequence[CheckResult]) -> set[str]:
    """Optional tasks none of whose checks passed: shown as one "not done" row, not as a list of failures."""
    tasks = {r.task for r in results if r.optional}
    return {task for task in tasks if not any(r.passed for r in results if r.task == task)}


def _groups(results: Sequence[CheckResult]) -> list[tuple[str, list[CheckResult]]]:
    """``[("", core results), (BONUS_HEADING, optional results)]``, leaving out an empty group.

    An optional task not started (:func:`not_started`) keeps only its first result, shown as the task's one row.
    """
    core = [r for r in results if not r.optional]
    skipped, bonus, seen = not_started(results), [], set()
    for r in results:
        if r.optional and (r.task not in skipped or r.task not in seen):
            bonus.append(r)
            seen.add(r.task)
    return [(heading, rows) for heading, rows in (("", core), (BONUS_HEADING, bonus)) if rows]


NOT_DONE = "not done yet (optional)"


def format_results(results: Sequence[CheckResult], title: str = "", note: str | None = None,
                   problem: str = "") -> str:
    """Fixed-width table: status, check name, and for failures the message and hint; ``note`` goes under it.

    ``problem`` (why the notebook could not be graded normally) is printed once above the table; checks that did
    not run are listed by name only, marked ``----``; caught-up checks are marked `` UP `` (no points); an optional
    task not started is one ``----`` row.
    """
    lines = [title] if title else []
    if problem:
        lines.append(f"  problem: {problem}")
    skipped = not_started(results)
    for heading, rows in _groups(results):
        if heading:
            lines.append(f"  {heading}:")
        for r in rows:
            if r.task in skipped:
                lines.append(f"  [{NOT_RUN}] {r.task}: {NOT_DONE}")
                continue
            if r.caught_up:
                lines.append(f"  [{CAUGHT_UP}] {r.name}  (caught up: no points)")
                continue
            if not r.ran:
                lines.append(f"  [{NOT_RUN}] {r.name}" + (f"  ({r.message})" if r.message else ""))
                continue
            lines.append(f"  [{PASS if r.passed else FAIL}] {r.name}")
            if not r.passed:
                lines.append(f"         why:  {r.message}")
                lines.append(f"         hint: {r.hint}")
    not_run = sum(1 for r in results if not r.ran and not r.caught_up)
    lines.append(f"  score: {Score.of(results).text()}" + (f"  ({_not_run_text(not_run)})" if not_run else ""))
    if note:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _not_run_text(count: int) -> str:
    return f"{count} check{'s' if count != 1 else ''} not run"


def _row_html(r: CheckResult, skipped: set[str]) -> str:
    if r.task in skipped:
        return (f'<tr style="background:#f1f3f4"><td style="text-align:center">&ndash;</td>'
                f"<td style='text-align:left'>{html.escape(r.task)}</td>"
                f"<td style='text-align:left'>{NOT_DONE}</td></tr>")
    if r.caught_up:
        colour, mark, detail = "#fef7e0", "&#8631;", "caught up: no points"
    elif not r.ran:
        colour, mark, detail = "#f1f3f4", "&ndash;", html.escape(r.message)
    elif r.passed:
        colour, mark, detail = "#e6f4ea", "&#10004;", ""
    else:
        colour, mark = "#fce8e6", "&#10008;"
        detail = f"{html.escape(r.message)}<br><b>Hint:</b> {html.escape(r.hint)}"
    return (f'<tr style="background:{colour}"><td style="text-align:center">{mark}</td>'
            f"<td style='text-align:left'>{html.escape(r.name)}</td><td style='text-align:left'>{detail}</td></tr>")


def results_html(results: Sequence[CheckResult], title: str = "", note: str | None = None) -> str:
    """HTML table of the results with green/red rows, for ``IPython.display.HTML``; ``note`` goes under it."""
    rows = []
    for heading, group in _groups(results):
        if heading:
            rows.append(f"<tr><td></td><td colspan='2' style='text-align:left'><i>{html.escape(heading)}</i></td></tr>")
        rows.extend(_row_html(r, not_started(results)) for r in group)
    not_run = sum(1 for r in results if not r.ran and not r.caught_up)
    head = f"<b>{html.escape(title)}</b> " if title else ""
    return (
        f"<div>{head}score: {html.escape(Score.of(results).text())}"
        + (f" ({_not_run_text(not_run)})" if not_run else "") + "<table>"
        "<tr><th></th><th style='text-align:left'>check</th><th style='text-align:left'>feedback</th></tr>"
        + "".join(rows) + "</table>"
        + (f"<p><b>Note:</b> {html.escape(note)}</p>" if note else "") + "</div>"
    )
