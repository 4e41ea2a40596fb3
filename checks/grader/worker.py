"""The grading child: runs a notebook's code cells, then the checks, and reports pass or fail by check name.

Started by :mod:`checks.grader.runner` (``python -c "from checks.grader.worker import main; ..."``) in a
process of its own, with stdin closed. Two modes:

* **notebook** (default): run every code cell in an IPython shell, each under the part's cell
  limit (:mod:`checks.grader.limits`), all under its notebook limit; verify after each cell that the
  grading code is untouched (:mod:`checks.grader.tamper`); run the object checks; export the names the
  artifact checks read (:mod:`checks.grader.exports`).
* **clean** (``--clean``): never runs notebook code; runs the artifact checks on exported names.

The report holds no points, tasks or hints: the parent takes those from its own copy of the
part, so a notebook that rewrites this process's memory can at most claim a check passed.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import functools
import io
import json
import signal
import time
import types
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from checks.grader.exports import export_names, restore
from checks.grader.notebook_file import first_line
from checks.grader.registry import Check, Part, caught_up_tasks, load_part, run_check
from checks.grader.schema import CellError
from checks.grader.tamper import changes, fingerprint, restore_builtins
from helpers import processes


class Outcome(BaseModel):
    """One check's outcome as the child saw it.

    Attributes:
        passed: whether the check passed.
        message: ``"ok"``, or why it failed (for the learner).
        seconds: how long it ran, in seconds.
        stopped: a time limit cut the check short: it was stopped at its limit (:func:`run_limited`), or it failed
            on calling a notebook function a limit had stopped before (:func:`_disable_stuck_function`). Its message
            says so; the parent carries this into :attr:`checks.grader.schema.CheckResult.stopped`.
    """

    passed: bool
    message: str
    seconds: float = 0.0
    stopped: bool = False


class StoppedCell(BaseModel):
    """A code cell (or a check) stopped by a time limit."""

    cell: int
    first_line: str
    seconds: float
    limit: str
    """``"cell"``: the cell limit; ``"notebook"``: the notebook's limit ran out."""


class WorkerReport(BaseModel):
    """What the child writes: the parent validates it and adds everything that carries points."""

    cell_errors: list[CellError] = []
    stopped: list[StoppedCell] = []
    skipped_cells: list[int] = []
    tampered: str = ""
    results: dict[str, Outcome] = {}
    checks_not_run: list[str] = []
    exports: dict[str, dict[str, Any]] = {}
    variants: dict[str, dict[str, Outcome]] = {}
    variant_exports: dict[str, dict[str, dict[str, Any]]] = {}
    caught_up: list[str] = []
    """Tasks the notebook caught up on (``helpers.catch_up``): the parent scores them as caught up."""
    token: str = ""
    """The token the parent gave this child (``--token-file``): a report without it was not written by the grader."""


class TimeLimit(BaseException):
    """Raised inside a cell or check when its time is up (a ``BaseException``: ``except Exception`` lets it pass)."""


def _on_alarm(signum, frame):
    raise TimeLimit()


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise :class:`TimeLimit` in the main thread after ``seconds`` (Python code stops between bytecodes)."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


STUB_CALLS: list[str] = []
"""The names of the stopped functions whose stubs were called in this process, in call order
(:func:`_disable_stuck_function`): a check that fails after calling one was cut short by a time limit."""


def _disable_stuck_function(error: BaseException, ns: dict[str, Any], seconds: float) -> str | None:
    """After a time limit stopped the notebook's function ``f``, make later calls of ``f`` fail at once.

    The traceback shows which function of the notebook was running (the outermost frame whose
    globals are the notebook's); ``ns[name]`` becomes a stub that raises ``TimeoutError`` saying so
    (and records the call in :data:`STUB_CALLS`), so every later cell or check that calls it costs nothing
    instead of another full limit.

    Returns:
        The function's name, or ``None`` when the time ran out in the cell's own code.
    """
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        name = frame.f_code.co_name
        stuck = ns.get(name) if frame.f_globals is ns and not name.startswith("<") else None  # not <listcomp> ...
        if isinstance(stuck, types.FunctionType) and stuck.__code__ is frame.f_code:
            def stub(*args, _name=name, **kwargs):
                STUB_CALLS.append(_name)
                raise TimeoutError(f"{_name}() did not finish within {seconds:.0f} s when grading called it "
                                   "before (an endless loop, or a very slow answer): fix it and grade again.")

            ns[name] = stub
            return name
        tb = tb.tb_next
    return None


def _no_input(*args, **kwargs):
    raise RuntimeError("input() cannot be answered while grading: remove it (or give the value in the code).")


def _write_progress(path: Path | None, number: int, line: str) -> None:
    """Tell the parent which cell runs now, so a process that dies can be blamed on its cell."""
    if path is not None:
        path.write_text(json.dumps({"cell": number, "first_line": line}))


@functools.cache
def _shell():
    """The process's one IPython shell (a singleton: the variants run in the notebook's own)."""
    from IPython.core.interactiveshell import InteractiveShell

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):  # `%matplotlib inline` needs no GUI event loop here
            return None

    return GradingShell.instance()


def _run_cell(shell, source: str):
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        result = shell.run_cell(source, store_history=False, silent=True)
    return result.error_in_exec or result.error_before_exec


def execute_notebook(sources: list[str], part: Part, *, cell_s: float, notebook_s: float,
                     progress: Path | None = None) -> tuple[dict[str, Any], WorkerReport, dict[str, int | str]]:
    """Run the code cells ``sources`` (in order) in a fresh IPython shell, within the limits.

    Returns:
        ``(namespace, report, fingerprint)``: the shell's namespace; a report with the cells that raised, were
        stopped or skipped, and ``tampered`` set (and later cells not run) when a cell changed the grading code;
        the grading code's fingerprint taken before the first cell.
    """
    import getpass

    builtins.input = _no_input
    getpass.getpass = _no_input
    shell = _shell()
    report = WorkerReport()
    before = fingerprint([part])
    deadline = time.monotonic() + notebook_s
    for number, source in enumerate(sources, start=1):
        line = first_line(source)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            report.skipped_cells.append(number)
            continue
        budget, which = (cell_s, "cell") if cell_s <= remaining else (remaining, "notebook")
        _write_progress(progress, number, line)
        started = time.monotonic()
        try:
            with _time_limit(budget):
                err = _run_cell(shell, source)
        except TimeLimit as stop:  # the alarm rang outside the cell's own code
            err = stop
        changed = changes(before, fingerprint([part]))  # first: later steps use builtins a cell may have replaced
        if changed:
            restore_builtins()
            report.tampered = (f"code cell {number} (`{line}`) changed the grading code or a library function it calls "
                               f"({', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''})")
            break
        if isinstance(err, TimeLimit):
            report.stopped.append(StoppedCell(cell=number, first_line=line, seconds=round(time.monotonic() - started),
                                              limit=which))
            _disable_stuck_function(err, shell.user_ns, budget)
        elif err is not None:
            report.cell_errors.append({"cell": number, "error": f"{type(err).__name__}: {err}"[:500]})
    _write_progress(progress, 0, "")
    return shell.user_ns, report, before


def run_limited(checks: list[Check], ns: dict[str, Any], *, check_s: float, checks_s: float
                ) -> tuple[dict[str, Outcome], list[str]]:
    """Run ``checks`` on ``ns``: each within ``check_s``, all within ``checks_s`` (seconds).

    A notebook function stopped by the limit fails at once in the later checks (:func:`_disable_stuck_function`).
    A check stopped at its limit, or failing after it called such a function, is :attr:`Outcome.stopped`.

    Returns:
        ``({name: outcome}, names not run because the checks' time ran out)``.
    """
    outcomes: dict[str, Outcome] = {}
    not_run: list[str] = []
    deadline = time.monotonic() + checks_s
    sink = io.StringIO()
    for check in checks:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            not_run.append(check.name)
            continue
        budget = min(check_s, remaining)
        started, stubs_called = time.monotonic(), len(STUB_CALLS)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _time_limit(budget):
                result = run_check(check, ns)
            outcomes[check.name] = Outcome(passed=result.passed, message=result.message, seconds=result.seconds,
                                           stopped=not result.passed and len(STUB_CALLS) > stubs_called)
        except TimeLimit as stop:
            name = _disable_stuck_function(stop, ns, budget)
            outcomes[check.name] = Outcome(
                passed=False, seconds=round(time.monotonic() - started, 1), stopped=True,
                message=f"the check was stopped after {budget:.0f} s: "
                        + (f"{name}() did not finish" if name else "the code it calls did not finish")
                        + " (an endless loop, or a very slow answer).")
    return outcomes, not_run


def _clean_reads(part: Part) -> set[str]:
    return {name for check in part.checks if check.clean for name in check.reads}


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


def _grade_variants(part: Part, ns: dict[str, Any], variants: dict[str, str], report: WorkerReport) -> None:
    """Run each wrong variant on top of the notebook's namespace (restored between them) and its object checks."""
    shell = _shell()
    sink = io.StringIO()
    objects = [c for c in part.checks if not c.clean]
    reads = _clean_reads(part)
    baseline: dict[str, tuple[Outcome, set[str]]] = {}
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for check in objects:
            tracked = _ReadTracker(ns)
            result = run_check(check, tracked)
            baseline[check.name] = (Outcome(passed=result.passed, message=result.message), tracked.reads)
    report.results = {name: outcome for name, (outcome, _) in baseline.items()}
    report.exports = export_names(ns, reads)
    for name, source in variants.items():
        snapshot = dict(ns)
        failure = _run_cell(shell, source)
        if failure is not None:
            raise RuntimeError(f"variant {name!r} raised {type(failure).__name__}: {failure}")
        changed = {k for k in ns.keys() | snapshot.keys() if ns.get(k, _GONE) is not snapshot.get(k, _GONE)}
        outcomes = {}
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            for check in objects:
                outcome, check_reads = baseline[check.name]
                if _dependencies(check_reads, ns) & changed:
                    result = run_check(check, ns)
                    outcome = Outcome(passed=result.passed, message=result.message)
                outcomes[check.name] = outcome
        report.variants[name] = outcomes
        report.variant_exports[name] = export_names(ns, reads)
        ns.clear()
        ns.update(snapshot)


def main(argv: list[str] | None = None) -> int:
    """Command line of the child (internal): see :func:`checks.grader.runner.grade_notebook`."""
    parser = argparse.ArgumentParser(description="Grading worker (internal): started by grader.runner.")
    parser.add_argument("notebook", type=Path, help="the .ipynb file (in --clean mode: a JSON file of exports)")
    parser.add_argument("part")
    parser.add_argument("out", type=Path)
    parser.add_argument("--cell-s", type=float, required=True)
    parser.add_argument("--notebook-s", type=float, required=True)
    parser.add_argument("--checks-s", type=float, required=True)
    parser.add_argument("--check-s", type=float, required=True)
    parser.add_argument("--progress", type=Path)
    parser.add_argument("--variants", type=Path, help="JSON file {name: source} of wrong variants")
    parser.add_argument("--clean", action="store_true", help="run only the artifact checks, on exported names")
    parser.add_argument("--token-file", type=Path, help="a file holding the token the report must carry (deleted)")
    args = parser.parse_args(argv)
    token = _take_token(args.token_file)
    part = load_part(args.part)
    if args.clean:
        return _clean_main(part, args)
    from checks.grader.notebook_file import read_notebook

    _, sources = read_notebook(args.notebook)
    ns, report, before = execute_notebook(sources, part, cell_s=args.cell_s, notebook_s=args.notebook_s,
                                  progress=args.progress)
    report.caught_up = sorted(caught_up_tasks(part.name))
    if args.variants is not None:
        _grade_variants(part, ns, json.loads(args.variants.read_text()), report)
    elif not report.tampered:
        objects = [c for c in part.checks if not c.clean]
        report.results, report.checks_not_run = run_limited(objects, ns, check_s=args.check_s, checks_s=args.checks_s)
        changed = changes(before, fingerprint([part]))
        if changed:  # the learner's code the checks called changed the grading code
            restore_builtins()
            report.tampered = f"the code a check called changed the grading code ({', '.join(changed[:3])})"
        report.exports = export_names(ns, _clean_reads(part))
    processes.stop_descendants()  # what the notebook started below this process; the parent stops those that left
    report.token = token
    args.out.write_text(report.model_dump_json())
    return 0


def _take_token(path: Path | None) -> str:
    """Read the parent's token and delete its file, before any notebook code runs (``""`` without one)."""
    if path is None:
        return ""
    token = path.read_text().strip()
    path.unlink(missing_ok=True)
    return token


def _clean_main(part: Part, args) -> int:
    """``--clean``: ``args.notebook`` is ``{"labels": {label: exports}, "skip": [check names]}``; run the artifact
    checks (but the skipped ones) once per distinct set of the names each reads."""
    spec = json.loads(args.notebook.read_text())
    labelled: dict[str, dict[str, dict[str, Any]]] = spec["labels"]
    clean = [c for c in part.checks if c.clean and c.name not in set(spec.get("skip", []))]
    deadline = time.monotonic() + args.checks_s
    seen: dict[tuple[str, str], Outcome] = {}
    out: dict[str, dict[str, Outcome]] = {}
    for label, exports in labelled.items():
        out[label] = {}
        for check in clean:
            visible = {name: exports[name] for name in check.reads if name in exports}
            key = (check.name, json.dumps(visible, sort_keys=True))
            if key not in seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    continue
                outcomes, _ = run_limited([check], restore(visible), check_s=min(args.check_s, remaining),
                                          checks_s=remaining)
                seen[key] = outcomes[check.name]
            out[label][check.name] = seen[key]
    args.out.write_text(json.dumps({label: {k: v.model_dump() for k, v in results.items()}
                                    for label, results in out.items()}))
    return 0
