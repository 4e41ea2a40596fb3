"""Grade a notebook file: execute its code in a fresh process, then run the checks there.

The learner's code runs in a child process (``python -m helpers.grading.runner``)
with a timeout, so an exception, an infinite loop, ``sys.exit`` or a crash in the
notebook becomes failing checks with messages, never a crashed grader. Checks
see real Python objects because they run in that same child process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.grading.registry import CheckResult, load_part, part_for_notebook, run_checks

GRADING_ENV = "WORKSHOP_GRADING"
"""Set to ``1`` in the grading process: ``check(...)`` calls inside the notebook do nothing."""

SKIP_TAG = "skip-grading"
"""Cell tag for slow cells that define nothing the checks need (e.g. a plot of a long run)."""

DEFAULT_TIMEOUT_S = 600


@dataclass
class GradeReport:
    """Result of grading one notebook with one part.

    Attributes:
        notebook: path of the graded notebook.
        part: autograder part name.
        results: one :class:`CheckResult` per check.
        cell_errors: cells that raised while the notebook ran: ``{"cell": n, "error": "..."}``
            (``n`` counts code cells from 1).
        seconds: wall time of the whole grading, in seconds.
        problem: why the notebook could not be graded normally (timeout, crash), or ``""``.
    """

    notebook: str
    part: str
    results: list[CheckResult]
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    problem: str = ""

    @property
    def score(self) -> int:
        """Points of the passed checks."""
        return sum(r.points for r in self.results if r.passed)

    @property
    def total(self) -> int:
        """Points of all checks."""
        return sum(r.points for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook, "part": self.part, "score": self.score, "total": self.total,
            "seconds": self.seconds, "problem": self.problem, "cell_errors": self.cell_errors,
            "results": [r.as_dict() for r in self.results],
        }


def _failed_everything(notebook: Path, part_name: str, message: str, seconds: float) -> GradeReport:
    part = load_part(part_name)
    results = [CheckResult(c.name, c.task, False, message, c.hint, c.points) for c in part.checks]
    return GradeReport(str(notebook), part_name, results, seconds=round(seconds, 1), problem=message)


def grade_notebook(notebook: str | Path, part: str | None = None, *,
                   timeout: float = DEFAULT_TIMEOUT_S) -> GradeReport:
    """Execute ``notebook`` in a separate process and grade it.

    Args:
        notebook: path of an ``.ipynb`` file.
        part: autograder part; default: the part matching the file name.
        timeout: seconds allowed for running the notebook's code and the checks.

    Returns:
        A :class:`GradeReport`; never raises for problems of the notebook's code.

    Raises:
        FileNotFoundError: the notebook does not exist.
        ValueError: no autograder part matches.
    """
    path = Path(notebook).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"No notebook at {notebook}: give the path of an .ipynb file.")
    part_name = part or part_for_notebook(path)
    load_part(part_name)  # fail fast on a bad part name, in this process
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        out = Path(tmp) / "report.json"
        env = {**os.environ, GRADING_ENV: "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "helpers.grading.runner", str(path), part_name, str(out)]
        proc = subprocess.Popen(cmd, cwd=path.parent, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return _failed_everything(
                path, part_name,
                f"The notebook did not finish within {timeout:.0f} s: look for an endless loop "
                "or a very slow cell, fix it and grade again.",
                time.perf_counter() - started)
        if proc.returncode != 0 or not out.exists():
            tail = " | ".join(stderr.strip().splitlines()[-3:])
            return _failed_everything(
                path, part_name,
                f"The notebook's code stopped the grader (exit code {proc.returncode}): {tail}",
                time.perf_counter() - started)
        data = json.loads(out.read_text())
    return GradeReport(
        str(path), part_name, [CheckResult(**r) for r in data["results"]],
        data["cell_errors"], round(time.perf_counter() - started, 1),
    )


def _execute_notebook(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every code cell in an IPython shell; return its namespace and the cell errors."""
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):  # `%matplotlib inline` needs no GUI event loop here
            return None

    nb = nbformat.read(path, as_version=4)
    shell = GradingShell.instance()
    errors: list[dict[str, Any]] = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = shell.run_cell(cell.source, store_history=False, silent=True)
        err = result.error_in_exec or result.error_before_exec
        if err is not None:
            errors.append({"cell": number, "error": f"{type(err).__name__}: {err}"})
    return shell.user_ns, errors


def _worker(notebook: str, part_name: str, out: str) -> None:
    part = load_part(part_name)
    ns, errors = _execute_notebook(Path(notebook))
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        results = run_checks(part, ns)
    payload = {"cell_errors": errors, "results": [r.as_dict() for r in results]}
    Path(out).write_text(json.dumps(payload))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Grading worker (internal): run by grade_notebook().")
    parser.add_argument("notebook")
    parser.add_argument("part")
    parser.add_argument("out")
    args = parser.parse_args()
    _worker(args.notebook, args.part, args.out)
