"""Grade a notebook file: execute its code in a fresh process, then run the checks there.

The learner's code runs in a child process (``python -m grader.runner``)
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
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.registry import Check, CheckResult, load_part, part_for_notebook, run_check, run_checks
from helpers import processes

GRADING_ENV = "WORKSHOP_GRADING"
"""Set to ``1`` in the grading process: ``check(...)`` calls inside the notebook do nothing."""

DEFAULT_TIMEOUT_S = 1200
"""Seconds a graded notebook and its checks may take: the LoRA challenge trains for minutes on a CPU."""


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
        try:
            proc = _run_worker(path, part_name, out, timeout=timeout)
        except subprocess.TimeoutExpired:
            return _failed_everything(
                path, part_name,
                f"The notebook did not finish within {timeout:.0f} s: look for an endless loop "
                "or a very slow cell, fix it and grade again.",
                time.perf_counter() - started)
        if proc.returncode != 0 or not out.exists():
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            return _failed_everything(
                path, part_name,
                f"The notebook's code stopped the grader (exit code {proc.returncode}): {tail}",
                time.perf_counter() - started)
        data = json.loads(out.read_text())
    return GradeReport(
        str(path), part_name, [CheckResult(**r) for r in data["results"]],
        data["cell_errors"], round(time.perf_counter() - started, 1),
    )


SOLUTION_KEY = "(solution)"
"""Key of :func:`grade_variants`'s result that holds the unmodified notebook's own results
(no variant file can be named so: variant names are Python module names)."""


def grade_variants(notebook: str | Path, variants: dict[str, str], part: str | None = None, *,
                   timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, list[CheckResult]]:
    """Grade deliberately wrong versions of a notebook: run it once, then each variant's code on top.

    Used by the grader self-tests: each variant redefines one answer (a function or a
    variable) with a known mistake; the notebook's namespace is restored between variants,
    so one notebook run serves them all.

    Args:
        notebook: path of an ``.ipynb`` file (normally the solution).
        variants: ``{name: python source}``; each source runs in the notebook's namespace.
        part: autograder part; default: the part matching the file name.
        timeout: seconds allowed for the notebook, every variant and their checks together.

    Returns:
        ``{name: results}`` with one :class:`CheckResult` per check of the part, and under
        :data:`SOLUTION_KEY` the results of the notebook itself (before any variant), so one
        run also grades the solution.

    Raises:
        RuntimeError: the notebook or a variant raised, or the run timed out (the message says which).
    """
    path = Path(notebook).resolve()
    part_name = part or part_for_notebook(path)
    load_part(part_name)
    with tempfile.TemporaryDirectory(prefix="grade-variants-") as tmp:
        spec, out = Path(tmp) / "variants.json", Path(tmp) / "report.json"
        spec.write_text(json.dumps(variants))
        try:
            proc = _run_worker(path, part_name, out, "--variants", str(spec), timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise RuntimeError(f"Grading the variants of {path.name} took more than {timeout:.0f} s.") from err
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"Grading the variants of {path.name} failed (exit code {proc.returncode}):\n"
                               f"{proc.stderr[-3000:]}")
        data = json.loads(out.read_text())
    if data["cell_errors"]:
        raise RuntimeError(f"{path.name} raised while running: {data['cell_errors']}")
    graded = {name: [CheckResult(**r) for r in results] for name, results in data["variants"].items()}
    graded[SOLUTION_KEY] = [CheckResult(**r) for r in data["results"]]
    return graded


def _run_worker(notebook: Path, part_name: str, out: Path, *extra: str,
                timeout: float) -> subprocess.CompletedProcess[str]:
    """Run this module's worker on ``notebook`` in a child; past ``timeout`` its whole process group is killed.

    Raises:
        subprocess.TimeoutExpired: the child (and every process it started) ran too long and was killed.
    """
    env = {**os.environ, GRADING_ENV: "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "grader.runner", str(notebook), part_name, str(out), *extra]
    return processes.run(command, cwd=notebook.parent, env=env, timeout=timeout)


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
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = shell.run_cell(cell.source, store_history=False, silent=True)
        err = result.error_in_exec or result.error_before_exec
        if err is not None:
            errors.append({"cell": number, "error": f"{type(err).__name__}: {err}"})
    return shell.user_ns, errors


_GONE = object()


class _ReadTracker(dict):
    """A copy of the namespace that records which names a check reads."""

    def __init__(self, ns: dict[str, Any]):
        super().__init__(ns)
        self.reads: set[str] = set()

    def __getitem__(self, key):
        self.reads.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.reads.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.reads.add(key)
        return super().__contains__(key)


def _run_tracked(check: Check, ns: dict[str, Any]) -> tuple[CheckResult, set[str]]:
    tracked = _ReadTracker(ns)
    return run_check(check, tracked), tracked.reads


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _dependencies(reads: set[str], ns: dict[str, Any]) -> set[str]:
    """Names a check depends on: those it read, plus the globals of the notebook functions among them.

    A variant that rebinds none of these names cannot change the check's result, so the
    solution's result is reused (one notebook run serves every variant quickly).
    """
    todo, seen = list(reads), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        value = ns.get(name)
        if isinstance(value, types.FunctionType) and value.__globals__ is ns:
            todo.extend(n for n in _global_names(value.__code__) if n in ns)
    return seen


def _worker(notebook: str, part_name: str, out: str, variants_file: str | None = None) -> None:
    part = load_part(part_name)
    ns, errors = _execute_notebook(Path(notebook))
    sink = io.StringIO()
    if variants_file is None:
        with contextlib.redirect_stdout(sink):
            results = run_checks(part, ns)
        payload = {"cell_errors": errors, "results": [r.as_dict() for r in results]}
    else:
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            baseline = {c.name: _run_tracked(c, ns) for c in part.checks}
        graded: dict[str, list[dict[str, Any]]] = {}
        for name, source in json.loads(Path(variants_file).read_text()).items():
            snapshot = dict(ns)
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                outcome = shell.run_cell(source, store_history=False, silent=True)
                failure = outcome.error_in_exec or outcome.error_before_exec
                if failure is not None:
                    raise RuntimeError(f"variant {name!r} raised {type(failure).__name__}: {failure}")
                changed = {k for k in ns.keys() | snapshot.keys() if ns.get(k, _GONE) is not snapshot.get(k, _GONE)}
                results = []
                for check in part.checks:
                    result, reads = baseline[check.name]
                    if _dependencies(reads, ns) & changed:
                        result = run_check(check, ns)
                    results.append(result.as_dict())
                graded[name] = results
            ns.clear()
            ns.update(snapshot)
        payload = {"cell_errors": errors, "variants": graded,
                   "results": [result.as_dict() for result, _ in baseline.values()]}
    Path(out).write_text(json.dumps(payload))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Grading worker (internal): run by grade_notebook().")
    parser.add_argument("notebook")
    parser.add_argument("part")
    parser.add_argument("out")
    parser.add_argument("--variants", help="JSON file {name: source} of wrong variants to grade")
    args = parser.parse_args()
    _worker(args.notebook, args.part, args.out, args.variants)
