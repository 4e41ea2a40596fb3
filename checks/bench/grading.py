"""``make grade`` per part: the grader on each solution notebook, in its own processes, timed from outside."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checks.bench.report import GradeRun
from checks.grader.registry import part_for_notebook
from checks.grader.schema import read_report

GRADE_TIMEOUT_S = 3600
"""One part's grading is stopped after an hour (the grader's own limits stop a stuck notebook much earlier)."""


def grade_solutions(notebooks: list[Path]) -> list[GradeRun]:
    """Run ``python -m checks.grader NOTEBOOK --json TMP`` for each notebook and time it.

    The report goes to a temporary file, so a learner's ``build/grades/report.json`` is left alone.
    """
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        for path in notebooks:
            part = part_for_notebook(path)
            report = Path(tmp) / f"{part}.json"
            print(f"  make grade NB={path.name} ...", end=" ", flush=True)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "checks.grader", str(path), "--json", str(report)],
                                  capture_output=True, text=True, timeout=GRADE_TIMEOUT_S)
            seconds = time.perf_counter() - started
            book = read_report(report) if report.is_file() else None
            graded = book.notebooks[-1] if book and book.notebooks else None
            score, total = (graded.score, graded.total) if graded else (None, None)
            print(f"{seconds:.0f} s, {score}/{total} points", flush=True)
            runs.append(GradeRun(part=part, notebook=path.name, seconds=round(seconds, 1), score=score, total=total,
                                 returncode=done.returncode))
    return runs
