"""``make grade``: grade notebooks in fresh processes and print a score table.

Usage: ``python -m checks.grader [NOTEBOOK ...] [--json PATH] [--slower FACTOR]``.
With no notebook, grades every learner notebook in ``notebooks/`` that has an
autograder part. The JSON report keeps the latest result of every part: grading one
notebook replaces that part's entry and leaves the others (the Reflection notebook
reads it for the self-assessment).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from checks import course
from checks.grader.limits import measure_machine
from checks.grader.report import format_results
from checks.grader.runner import grade_notebook
from checks.grader.schema import ABOUT, GradeBook, GradeReport, ReportError, read_report, write_report
from helpers.paths import GRADE_REPORT, NOTEBOOKS_DIR, REPO_ROOT, shown_path


def _default_notebooks() -> list[Path]:
    prefixes = tuple(row.prefix for row in course.NOTEBOOKS)
    return sorted(nb for nb in NOTEBOOKS_DIR.glob("*.ipynb") if nb.name.startswith(prefixes))


def _previous_reports(path: Path) -> list[GradeReport]:
    """Entries of an earlier report at ``path``; none if it is missing or unreadable."""
    try:
        report = read_report(path)
    except ReportError:
        return []
    return report.notebooks if report else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make grade", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to grade (default: notebooks/)")
    parser.add_argument("--json", type=Path, default=GRADE_REPORT, help="where to write the JSON report")
    parser.add_argument("--slower", type=float, default=1.0, metavar="FACTOR",
                        help="multiply every time limit again (the grader already measures the machine; see "
                             "checks.grader.limits)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or _default_notebooks()
    print(textwrap.fill(ABOUT, 110, break_on_hyphens=False), end="\n\n")
    machine = measure_machine()
    if machine.note:
        print(machine.note, end="\n\n")
    reports = []
    for nb in notebooks:
        try:
            report = grade_notebook(nb, scale=args.slower, machine=machine)
        except (FileNotFoundError, ValueError) as err:
            print(f"{nb}: {err}", file=sys.stderr)
            return 2
        graded = Path(report.notebook)
        reports.append(report.model_copy(update={
            "notebook": shown_path(graded) if graded.is_relative_to(REPO_ROOT) else graded.name,
            "graded_at": time.strftime("%Y-%m-%d %H:%M:%S")}))
        print(format_results(report.results, f"{Path(nb).name}  ({report.seconds:.0f} s)", problem=report.problem))
        for error in report.cell_errors:
            print(f"  note: code cell {error['cell']} raised {error['error']}")
        print()
    fresh = GradeBook.of(reports)
    print(f"{'notebook':<48}{'core':>8}   {'bonus (optional)':>16}")
    for r in [*reports, fresh]:
        name = Path(r.notebook).name if isinstance(r, GradeReport) else "total"
        bonus = f"{r.bonus_score}/{r.bonus_total}" if r.bonus_total else "-"
        print(f"{name:<48}{r.score:>5}/{r.total:<3}   {bonus:>16}")
    graded_parts = {r.part for r in reports}
    kept = [r for r in _previous_reports(args.json) if r.part not in graded_parts]
    path = write_report(GradeBook.of(kept + reports), args.json)
    earlier = f" (kept the earlier results of: {', '.join(sorted(r.part for r in kept))})" if kept else ""
    print(f"report written to {shown_path(path)}{earlier}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
