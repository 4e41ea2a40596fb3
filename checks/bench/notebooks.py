"""Solution notebooks as ``make run`` executes them: wall time, slowest cells, and each ``check()`` cell's latency.

Every ``helpers.check`` cell is held to :data:`checks.grader.limits.CHECK_BUDGET_S`: one over it is flagged
(:attr:`checks.bench.report.CheckTime.over_budget`), printed as ``SLOW`` and makes ``make bench`` exit with status 1.
"""

from __future__ import annotations

import ast
from pathlib import Path

from checks.authoring.run_notebooks import BONUS_HEADING, cell_seconds, run_notebook
from checks.bench.report import ALL_TASKS, CellTime, CheckTime, NotebookRun
from checks.course import notebook_of
from checks.grader.limits import CHECK_BUDGET_S

SLOWEST_CELLS = 5
"""Cells listed per notebook, slowest first."""


def check_call(source: str) -> tuple[str, str] | None:
    """``(part, task)`` when a cell is one ``helpers.check("part", "task")`` call, else ``None``.

    ``helpers.check("part")`` gives the task :data:`ALL_TASKS`.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "helpers.check" and len(call.args) in (1, 2)
            and not call.keywords and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
        return None
    return call.args[0].value, call.args[1].value if len(call.args) == 2 else ALL_TASKS


def timings(nb, notebook: str, seconds: float, error: str = "") -> NotebookRun:
    """Summarize an executed notebook ``nb`` (nbformat node) that took ``seconds`` of wall time.

    A ``helpers.check`` cell (:func:`check_call`) that took more than :data:`checks.grader.limits.CHECK_BUDGET_S`
    is ``over_budget``; a cell that did not run (no timings) is left out.
    """
    cells: list[CellTime] = []
    checks: list[CheckTime] = []
    core: float | None = None
    running = 0.0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.startswith(BONUS_HEADING) and core is None:
            core = running
        if cell.cell_type != "code":
            continue
        took = cell_seconds(cell)
        if took is None:
            continue
        running += took
        first = cell.source.strip().splitlines()[0][:80] if cell.source.strip() else ""
        cells.append(CellTime(index=index, seconds=round(took, 2), source=first))
        call = check_call(cell.source)
        if call:
            checks.append(CheckTime(part=call[0], task=call[1], seconds=round(took, 2)))
    slowest = sorted(cells, key=lambda c: c.seconds, reverse=True)[:SLOWEST_CELLS]
    return NotebookRun(
        notebook=notebook, seconds=round(seconds, 1), cells_seconds=round(running, 1),
        core_seconds=None if core is None else round(core, 1), target_s=notebook_of(notebook).run_target_s,
        error=error, slowest_cells=slowest, checks=checks,
    )


def run_solutions(notebooks: list[Path], out_dir: Path) -> list[NotebookRun]:
    """Execute each notebook in a fresh workshop kernel (outputs in ``out_dir``), bonus sections included, and time it.

    Raises nothing for a failing cell: the run's ``error`` says which (the benchmark goes on).
    """
    import nbformat

    runs = []
    for path in notebooks:
        print(f"  {path.name} ...", end=" ", flush=True)
        result = run_notebook(path.resolve(), out_dir)
        run = timings(nbformat.read(result.output, as_version=4), path.name, result.seconds, result.error)
        slow = [c for c in run.checks if c.over_budget]
        print(f"{run.seconds:.0f} s" + (f" (core {run.core_seconds:.0f} s)" if run.core_seconds else "")
              + (f"  FAILED: {run.error}" if run.error else ""), flush=True)
        for check in slow:
            print(f"    SLOW: {check.call} took {check.seconds:.1f} s, over the {CHECK_BUDGET_S:.0f} s budget of a "
                  "check() cell", flush=True)
        runs.append(run)
    return runs
