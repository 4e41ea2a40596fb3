"""Grade a notebook file: run its code in a child process, its artifact checks in a clean one, score here.

The learner's code runs in a child (:mod:`checks.grader.worker`) with stdin closed and the part's
time limits (:mod:`checks.grader.limits`), so an exception, an endless loop, ``input()``,
``os._exit`` or a crash becomes a clear message, never a crashed or stuck grader. Object checks
see real Python objects because they run in that child; artifact checks run in a second child
that never executed notebook code. The children report pass or fail per check name; points,
tasks and hints come from this process's copy of the part.

Grading never changes what the learner made: both children see a scratch copy of ``outputs/``
(:data:`helpers.paths.OUTPUTS_ENV_VAR` points there), removed afterwards. Every process the
notebook started is stopped when its child ends (:func:`helpers.processes.run`). The child's
report must carry a token the child read from a file it deleted before the first cell, so a cell
that writes a report of its own and ends the process is not believed (tamper evidence, not a
sandbox: see :data:`checks.grader.schema.ABOUT`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from checks import course
from checks.grader.limits import GRACE_S, Limits, Machine, limits_for
from checks.grader.notebook_file import NotebookFileError, backup_notebook, first_line, read_notebook
from checks.grader.registry import (
    Check,
    Part,
    caught_up_result,
    load_part,
    part_for_notebook,
    prerequisite,
)
from checks.grader.schema import CheckResult, GradeReport
from checks.grader.worker import Outcome, WorkerReport
from helpers import paths, processes
from helpers.paths import REPO_ROOT, SOLUTIONS_DIR

GRADING_ENV = "WORKSHOP_GRADING"
"""Set to ``1`` in the grading process: ``check(...)`` calls inside the notebook do nothing."""


def _not_run(part: Part, message: str = "") -> list[CheckResult]:
    """Every check of ``part`` as not run, with ``message`` (shown once per check, after its name)."""
    return [c.result(message=message, ran=False) for c in part.checks]


def _unusable(notebook: Path, part: Part, problem: str, started: float) -> GradeReport:
    """A report for a notebook that could not be graded: ``problem`` once, every check listed as not run."""
    return GradeReport(notebook=str(notebook), part=part.name, results=_not_run(part),
                       seconds=round(time.perf_counter() - started, 1), problem=problem)


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _blame(progress: Path, sources: list[str]) -> str:
    """Which cell was running, from the child's progress file: ``"code cell 7 (`trainer.train()`)"`` or ``""``."""
    try:
        data = json.loads(progress.read_text())
        number = int(data["cell"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if not 1 <= number <= len(sources):
        return ""
    return f"code cell {number} (`{first_line(sources[number - 1])}`)"


def _died(proc: subprocess.CompletedProcess[str], progress: Path, sources: list[str]) -> str:
    """One line for a child that ended without a report."""
    where = _blame(progress, sources) or "the notebook's code"
    where = where[:1].upper() + where[1:]
    if proc.returncode < 0:
        name = _signal_name(proc.returncode)
        why = " (SIGKILL: often the machine ran out of memory)" if name == "SIGKILL" else ""
        return f"{where} crashed the Python process with {name}{why}; the checks could not run."
    tail = " | ".join(line for line in proc.stderr.strip().splitlines()[-2:] if line.strip())[:300]
    return (f"{where} ended the Python process (exit code {proc.returncode}, as os._exit does): remove that call, "
            "the checks need the process to go on." + (f" Last words: {tail}" if tail and proc.returncode else ""))


def _stopped_note(report: WorkerReport, limits: Limits) -> str:
    """The report's problem line when cells were stopped or skipped, else ``""``."""
    parts = []
    for stop in report.stopped:
        if stop.limit == "cell":
            limit = f"the cell limit of {limits.cell_s:.0f} s"
            usual = (f" (the solution's slowest cell takes about {limits.solution_cell_s:.0f} s here)"
                     if limits.solution_cell_s else "")
        else:
            limit = f"the notebook's limit of {limits.notebook_s:.0f} s"
            usual = (f" (the solution's cells take about {limits.solution_notebook_s:.0f} s here)"
                     if limits.solution_notebook_s else "")
        parts.append(f"code cell {stop.cell} (`{stop.first_line}`) was stopped at {limit}{usual}")
    if report.skipped_cells:
        cells = report.skipped_cells
        parts.append(f"code cells {cells[0]}-{cells[-1]} did not run (no time left)" if len(cells) > 1
                     else f"code cell {cells[0]} did not run (no time left)")
    return "; ".join(parts)


def _cut_pointer(report: WorkerReport) -> str:
    """What a failing check adds when the notebook did not run to its end: the first cell cut off."""
    if report.stopped:
        first = report.stopped[0]
        return f"the notebook did not run to its end: code cell {first.cell} (`{first.first_line}`) was stopped"
    if report.skipped_cells:
        return f"the notebook did not run to its end: code cell {report.skipped_cells[0]} and later did not run"
    return ""


def _blocked(check: Check, outcomes: dict[str, Outcome]) -> Outcome | None:
    """A failure pointing to the first check ``check`` requires that failed, or ``None`` when none did."""
    failed = [name for name in check.requires if name in outcomes and not outcomes[name].passed]
    if not failed:
        return None
    return Outcome(passed=False, message=f"not scored: it builds on a check that failed {prerequisite(failed[0])}.")


def _results(part: Part, outcomes: dict[str, Outcome], not_run: dict[str, str], note: str,
             caught_up: frozenset[str] | set[str] = frozenset()) -> list[CheckResult]:
    """The part's checks with the child's outcomes: points, tasks and hints from this process's definitions.

    The checks of a task in ``caught_up`` (the notebook took its catch-up) are caught up: no points. A failing
    check's message gets ``note`` (where the notebook was cut short) unless a time limit stopped the check itself
    (:attr:`Outcome.stopped`: its message says so already).
    """
    results = []
    for check in part.checks:
        if check.task in caught_up:
            results.append(caught_up_result(check))
            continue
        outcome = outcomes.get(check.name)
        if outcome is not None and outcome.passed:
            outcome = _blocked(check, outcomes) or outcome
        if outcome is None:
            results.append(check.result(message=not_run.get(check.name, ""), ran=False))
            continue
        message = outcome.message
        if not outcome.passed and note and not outcome.stopped:
            message = f"{message} ({note}: see the problem above.)"
        results.append(check.result(passed=outcome.passed, message=message, seconds=round(outcome.seconds, 3),
                                    stopped=outcome.stopped))
    return results


def grade_notebook(notebook: str | Path, part: str | None = None, *, scale: float = 1.0,
                   machine: Machine | None = None, limits: Limits | None = None) -> GradeReport:
    """Execute ``notebook`` in a separate process and grade it.

    The notebook's code and the object checks run in one child within the part's limits
    (:func:`checks.grader.limits.limits_for`); the artifact checks then run in a second, clean child
    on the files it wrote. Points come from this process's copy of the part.

    Args:
        notebook: path of an ``.ipynb`` file.
        part: autograder part; default: the part matching the file name.
        scale: multiplies every time limit (``make grade ARGS="--slower 2"``).
        machine: what :func:`checks.grader.limits.measure_machine` found when grading started: the limits grow with its
            speed (never shrink), and a busy machine runs the notebook on one thread.
        limits: the limits to use instead of the part's (tests).

    Returns:
        A :class:`GradeReport`; never raises for problems of the notebook's file or code.

    Raises:
        FileNotFoundError: the notebook does not exist.
        ValueError: no autograder part matches.
    """
    path = Path(notebook).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"No notebook at {notebook}: give the path of an .ipynb file.")
    definition = load_part(part or part_for_notebook(path))
    machine = machine or Machine()
    limits = limits or limits_for(definition.name, scale, machine.speed)
    started = time.perf_counter()
    try:
        _, sources = read_notebook(path, course.notebook(definition.name).prefix)
    except NotebookFileError as err:
        return _unusable(path, definition, str(err), started)
    if path.is_relative_to(REPO_ROOT) and not path.is_relative_to(SOLUTIONS_DIR):  # a learner's work: keep a copy
        backup_notebook(path)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp, _scratch_outputs(definition.name) as outputs:
        out, progress = Path(tmp) / "report.json", Path(tmp) / "progress.json"
        env = {**machine.env, paths.OUTPUTS_ENV_VAR: str(outputs)}
        token = secrets.token_hex(16)
        try:
            proc = _run_worker(path, definition.name, out, limits, Path(tmp), "--progress", str(progress),
                               timeout=limits.total_s, env=env, token=token)
        except subprocess.TimeoutExpired:
            where = _blame(progress, sources) or "the checks"
            where = where[:1].upper() + where[1:]
            usual = (f"; the solution's cells take about {limits.solution_notebook_s:.0f} s here"
                     if limits.solution_notebook_s else "")
            return _unusable(path, definition, f"{where} was still running when grading reached its limit of "
                                               f"{limits.total_s:.0f} s and was stopped (it ignored the cell limit: "
                                               f"look for a loop that catches every exception{usual})", started)
        report = _read_report(out, token)
        if report is None:
            return _unusable(path, definition, _died(proc, progress, sources), started)
        if report.tampered:
            results = _not_run(definition, "not scored: the notebook modified the grading code")
            return GradeReport(notebook=str(path), part=definition.name, results=results,
                               cell_errors=report.cell_errors, seconds=round(time.perf_counter() - started, 1),
                               problem=f"Not graded: {report.tampered}. Remove that code and grade again.")
        outcomes = dict(report.results)
        not_run = {name: "not run: the checks' time limit ran out" for name in report.checks_not_run}
        blocked = {c.name for c in definition.checks
                   if any(name in outcomes and not outcomes[name].passed for name in c.requires)}
        if any(c.clean and c.name not in blocked for c in definition.checks):
            clean, why = _run_clean(definition, {"notebook": report.exports}, limits, Path(tmp), path.parent,
                                    skip=blocked, env=env)
            outcomes.update(clean.get("notebook", {}))
            not_run.update({c.name: why for c in definition.checks
                            if c.clean and c.name not in outcomes and c.name not in blocked})
        outcomes.update({c.name: _blocked(c, outcomes) for c in definition.checks if c.name in blocked})
    note = _stopped_note(report, limits)
    caught_up = set(report.caught_up) & {c.task for c in definition.checks}
    return GradeReport(notebook=str(path), part=definition.name,
                       results=_results(definition, outcomes, not_run, _cut_pointer(report), caught_up),
                       cell_errors=report.cell_errors, seconds=round(time.perf_counter() - started, 1),
                       problem=note[:1].upper() + note[1:] if note else "")


def _read_report(out: Path, token: str) -> WorkerReport | None:
    """The child's report, or ``None`` when there is none, it is unreadable, or it lacks the child's token (a cell
    wrote it, then ended the process before the grader could)."""
    try:
        report = WorkerReport.model_validate_json(out.read_text())
    except (OSError, ValueError):
        return None
    return report if secrets.compare_digest(report.token, token) else None


@contextlib.contextmanager
def _scratch_outputs(part: str) -> Iterator[Path]:
    """A copy of :data:`helpers.paths.OUTPUTS_DIR` under :data:`helpers.paths.GRADING_DIR` for one graded run.

    The copy leaves out the memory probe's records (:data:`helpers.paths.MEMORY_RECORDS_DIR`): only the graded run's
    own measurements count. It is removed when the run ends, whatever happened.

    Raises:
        OSError: the copy could not be made (a full disk); the learner's folder is untouched.
    """
    source = paths.OUTPUTS_DIR
    paths.GRADING_DIR.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=f"{part}-", dir=paths.GRADING_DIR))
    target = root / "outputs"
    records = paths.MEMORY_RECORDS_DIR.name
    try:
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(records))
        else:
            target.mkdir()
        yield target
    finally:
        shutil.rmtree(root, ignore_errors=True)


SOLUTION_KEY = "(solution)"
"""Key of :func:`grade_variants`'s result that holds the unmodified notebook's own results
(no variant file can be named so: variant names are Python module names)."""


def grade_variants(notebook: str | Path, variants: dict[str, str], part: str | None = None, *,
                   timeout: float) -> dict[str, list[CheckResult]]:
    """Grade deliberately wrong versions of a notebook: run it once, then each variant's code on top.

    Used by the grader self-tests: each variant redefines one answer (a function or a
    variable) with a known mistake; the notebook's namespace is restored between variants,
    so one notebook run serves them all. Object checks run in the notebook's process; the
    artifact checks run in one clean process, once per distinct set of names they read.

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
    definition = load_part(part or part_for_notebook(path))
    limits = Limits(cell_s=timeout, notebook_s=timeout, checks_s=timeout)
    with tempfile.TemporaryDirectory(prefix="grade-variants-") as tmp:
        spec, out = Path(tmp) / "variants.json", Path(tmp) / "report.json"
        spec.write_text(json.dumps(variants))
        token = secrets.token_hex(16)
        try:
            proc = _run_worker(path, definition.name, out, limits, Path(tmp), "--variants", str(spec),
                               timeout=timeout, token=token)
        except subprocess.TimeoutExpired as err:
            raise RuntimeError(f"Grading the variants of {path.name} took more than {timeout:.0f} s.") from err
        report = _read_report(out, token)
        if proc.returncode != 0 or report is None:
            raise RuntimeError(f"Grading the variants of {path.name} failed (exit code {proc.returncode}):\n"
                               f"{proc.stderr[-3000:]}")
        if report.cell_errors or report.stopped or report.tampered:
            raise RuntimeError(f"{path.name} did not run cleanly: errors {report.cell_errors}, stopped "
                               f"{report.stopped}, tampered {report.tampered!r}")
        clean: dict[str, dict[str, Outcome]] = {}
        if any(c.clean for c in definition.checks):
            labelled = {SOLUTION_KEY: report.exports, **report.variant_exports}
            clean, why = _run_clean(definition, labelled, limits, Path(tmp), path.parent)
            if not clean:
                raise RuntimeError(f"The artifact checks of {path.name} did not run: {why}")
    graded = {name: _results(definition, {**outcomes, **clean.get(name, {})}, {}, "")
              for name, outcomes in report.variants.items()}
    graded[SOLUTION_KEY] = _results(definition, {**report.results, **clean.get(SOLUTION_KEY, {})}, {}, "")
    return graded


def _run_clean(part: Part, labelled: dict[str, dict[str, Any]], limits: Limits, tmp: Path, cwd: Path,
               skip: set[str] = frozenset(), env: dict[str, str] | None = None
               ) -> tuple[dict[str, dict[str, Outcome]], str]:
    """Run the artifact checks (but ``skip``) in a clean child, once per label's exports.

    The child works in ``cwd``, the notebook's folder, as the notebook did: its relative paths mean the same there.

    Returns:
        ``({label: {check name: outcome}}, why nothing came back or "")``.
    """
    exports, out = tmp / "exports.json", tmp / "clean.json"
    exports.write_text(json.dumps({"labels": labelled, "skip": sorted(skip)}))
    try:
        proc = _run_worker(exports, part.name, out, limits, tmp, "--clean", cwd=cwd, timeout=limits.checks_s + GRACE_S,
                           env=env)
    except subprocess.TimeoutExpired:
        return {}, f"not run: the artifact checks took more than {limits.checks_s:.0f} s"
    if not out.exists():
        tail = " | ".join(proc.stderr.strip().splitlines()[-2:])[:300]
        return {}, f"not run: the artifact checks' process failed (exit code {proc.returncode}): {tail}"
    data = json.loads(out.read_text())
    return {label: {name: Outcome.model_validate(o) for name, o in results.items()}
            for label, results in data.items()}, ""


def _run_worker(target: Path, part_name: str, out: Path, limits: Limits, tmp: Path, *extra: str,
                timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None,
                token: str = "") -> subprocess.CompletedProcess[str]:
    """Run :mod:`checks.grader.worker` on ``target`` in a child; past ``timeout`` it is killed. Either way, every
    process it started is stopped when it ends (:func:`helpers.processes.run`).

    The child works in ``cwd`` (default: the notebook's folder) with ``env`` added to this process's environment;
    its temporary files go to ``tmp`` (``TMPDIR``), which the caller removes. ``token`` reaches the child through a
    file it deletes before running any cell; its report must carry it back.

    Raises:
        subprocess.TimeoutExpired: the child (and every process it started) ran too long and was killed.
    """
    scratch = tmp / "tmp"
    scratch.mkdir(exist_ok=True)
    token_file = tmp / "token"
    token_file.write_text(token)
    child_env = {**os.environ, **(env or {}), GRADING_ENV: "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1",
                 "TMPDIR": str(scratch)}
    command = [sys.executable, "-c", "import sys; from checks.grader.worker import main; sys.exit(main())",
               str(target), part_name, str(out), "--cell-s", str(limits.cell_s),
               "--check-s", str(limits.check_s or limits.cell_s),
               "--notebook-s", str(limits.notebook_s), "--checks-s", str(limits.checks_s),
               "--token-file", str(token_file), *extra]
    return processes.run(command, cwd=cwd or target.parent, env=child_env, timeout=timeout)
