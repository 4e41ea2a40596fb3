"""Render check results: a text table for terminals, HTML for notebooks (the JSON report: helpers.grade_report)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from grader.registry import CheckResult

PASS, FAIL = "PASS", "FAIL"


def format_results(results: Sequence[CheckResult], title: str = "", note: str | None = None,
                   problem: str = "") -> str:
    """Fixed-width table: status, check name, and for failures the message and hint; ``note`` goes under it.

    ``problem`` (why the notebook could not be graded normally) is printed once above the table; checks that did
    not run are listed by name only, marked ``----``.
    """
    lines = [title] if title else []
    if problem:
        lines.append(f"  problem: {problem}")
    for r in results:
        if not r.ran:
            lines.append(f"  [----] {r.name}" + (f"  ({r.message})" if r.message else ""))
            continue
        lines.append(f"  [{PASS if r.passed else FAIL}] {r.name}")
        if not r.passed:
            lines.append(f"         why:  {r.message}")
            lines.append(f"         hint: {r.hint}")
    score = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    not_run = sum(1 for r in results if not r.ran)
    lines.append(f"  score: {score}/{total}" + (f"  ({_not_run_text(not_run)})" if not_run else ""))
    if note:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _not_run_text(count: int) -> str:
    return f"{count} check{'s' if count != 1 else ''} not run"


def results_html(results: Sequence[CheckResult], title: str = "", note: str | None = None) -> str:
    """HTML table of the results with green/red rows, for ``IPython.display.HTML``; ``note`` goes under it."""
    rows = []
    for r in results:
        colour = "#f1f3f4" if not r.ran else "#e6f4ea" if r.passed else "#fce8e6"
        mark = "&ndash;" if not r.ran else "&#10004;" if r.passed else "&#10008;"
        detail = html.escape(r.message) if not r.ran else "" if r.passed else (
            f"{html.escape(r.message)}<br><b>Hint:</b> {html.escape(r.hint)}"
        )
        rows.append(
            f'<tr style="background:{colour}"><td style="text-align:center">{mark}</td>'
            f"<td style='text-align:left'>{html.escape(r.name)}</td><td style='text-align:left'>{detail}</td></tr>"
        )
    score = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    not_run = sum(1 for r in results if not r.ran)
    head = f"<b>{html.escape(title)}</b> " if title else ""
    return (
        f"<div>{head}score {score}/{total}" + (f" ({_not_run_text(not_run)})" if not_run else "") + "<table>"
        "<tr><th></th><th style='text-align:left'>check</th><th style='text-align:left'>feedback</th></tr>"
        + "".join(rows) + "</table>"
        + (f"<p><b>Note:</b> {html.escape(note)}</p>" if note else "") + "</div>"
    )
