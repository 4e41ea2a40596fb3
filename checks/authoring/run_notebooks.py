"""``make run``: execute the solution notebooks headless and report their wall times.

Each notebook runs in a fresh ``transformers-workshop`` kernel with nbclient; the
executed ``.ipynb`` and an HTML export go to ``build/``. The run prints every
notebook's wall time next to its run target and its phase's time box, and exits
non-zero if any cell failed.

The bonus sections (``## Bonus ...`` headings: the exercise's optional tasks, the challenge's QLoRA,
full fine-tuning and script) run only when someone runs them, as in the room: ``make run`` executes
the core path and clears the bonus cells' stored outputs in its copies (no older run's numbers next
to this run's); ``make run BONUS=1`` (``--bonus``) executes them too.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from checks.course import notebook_of
from helpers.paths import BUILD_DIR, SOLUTIONS_DIR, shown_path

KERNEL_NAME = "transformers-workshop"
"""The Jupyter kernel ``make setup`` installs (the Makefile's ``KERNEL``) and the notebooks run in."""
CELL_TIMEOUT_S = 900.0
"""Seconds one cell may run before nbclient stops the notebook (the challenge's slowest cell, a bonus training, takes
about 3 minutes on a 2-core AVX2 CPU). ``make grade``'s own limits are :mod:`checks.grader.limits`."""
BONUS_HEADING = "## Bonus"
"""A markdown cell starting with this opens a notebook's optional part."""
SKIP_TAG = "skip-execution"
"""nbclient's tag for cells it leaves unexecuted (``NotebookClient.skip_cells_with_tag``)."""


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(cell) -> float | None:
    """Execution time of one executed code cell, in seconds, from nbclient's ``execution`` metadata.

    ``None`` when the cell did not run (no ``iopub.execute_input`` or ``shell.execute_reply`` timestamp).
    """
    execution = cell.get("metadata", {}).get("execution", {})
    started, ended = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
    if not started or not ended:
        return None
    return (_timestamp(ended) - _timestamp(started)).total_seconds()


def skip_bonus(nb) -> int:
    """Tag every code cell of a bonus section with :data:`SKIP_TAG` and clear its stored outputs.

    A bonus section runs from a markdown cell starting with :data:`BONUS_HEADING` to the next ``## `` heading that
    is not a bonus. Its outputs are cleared so the executed copy never shows an older run's numbers next to this
    run's. Returns the code cells tagged.
    """
    skipping, tagged = False, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            skipping = cell.source.startswith(BONUS_HEADING)
        if skipping and cell.cell_type == "code":
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if SKIP_TAG not in tags:
                tags.append(SKIP_TAG)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
            tagged += 1
    return tagged


@dataclass
class RunResult:
    """Outcome of one notebook run.

    Attributes:
        notebook: source path.
        seconds: wall time of the execution, in seconds.
        error: first failing cell's error (``""`` on success).
        output: executed notebook path (written even when a cell failed).
    """

    notebook: Path
    seconds: float
    error: str
    output: Path


def run_notebook(path: Path, out_dir: Path, *, kernel_name: str = KERNEL_NAME,
                 store: bool = False, bonus: bool = True) -> RunResult:
    """Execute one notebook into ``out_dir`` (``.ipynb`` + ``.html``).

    Args:
        path: notebook to run; it runs with its own folder as working directory.
        out_dir: where the executed copies go.
        kernel_name: Jupyter kernel (installed by ``make setup``).
        store: also write the outputs back into ``path`` (to refresh a solution's stored outputs).
        bonus: execute the bonus sections too; ``False`` skips them (:func:`skip_bonus`).

    Raises:
        ValueError: ``store`` without ``bonus`` (the stored bonus outputs would be the previous run's).
    """
    if store and not bonus:
        raise ValueError("store=True needs bonus=True: every stored output must come from the same run.")
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    if not bonus:
        skip_bonus(nb)
    # coalesce_streams: one stream, not one per token; shutdown_kernel="immediate": every output is in by then, and a
    # graceful shutdown waits about 1.2 s per notebook for the kernel to exit on its own
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=kernel_name, coalesce_streams=True,
                            shutdown_kernel="immediate", resources={"metadata": {"path": str(path.parent)}})
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    error = ""
    # The kernel process's own log (not the cells' output) goes to a file beside the results.
    with open(out_dir / f"{path.stem}.kernel.log", "w") as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except CellExecutionError as err:
            error = str(err).strip().splitlines()[-1] if str(err).strip() else "a cell failed"
    seconds = time.perf_counter() - started
    target = out_dir / path.name
    nbformat.write(nb, target)
    body, _ = HTMLExporter().from_notebook_node(nb)
    target.with_suffix(".html").write_text(body, encoding="utf-8")
    if store and not error:
        nbformat.write(nb, path)
    return RunResult(path, seconds, error, target)


def _fmt_minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: solutions/*.ipynb")
    parser.add_argument("--out", type=Path, default=BUILD_DIR)
    parser.add_argument("--store", action="store_true", help="write outputs back into the notebooks (implies --bonus)")
    parser.add_argument("--bonus", action="store_true", help="also execute the challenge's bonus sections")
    parser.add_argument("--skip-models", action="store_true", help="do not prepare the models first")
    args = parser.parse_args(argv)

    from helpers import env

    env.apply()
    if not args.skip_models:
        from helpers.model_cache import prepare_all
        from helpers.models import ModelPreparationError

        print(f"Preparing models (WORKSHOP_MODELS={env.model_source()})")
        try:
            prepare_all()
        except ModelPreparationError as err:
            print(f"error: {err}")
            return 1
    notebooks = args.notebooks or sorted(SOLUTIONS_DIR.glob("*.ipynb"))
    if not notebooks:
        print("No notebooks to run.")
        return 1
    results = []
    for nb in notebooks:
        row = notebook_of(nb)
        print(f"Running {nb.name} ({row.phase}) ...", flush=True)
        result = run_notebook(Path(nb).resolve(), args.out, store=args.store, bonus=args.bonus or args.store)
        status = "ok" if not result.error else f"FAILED: {result.error}"
        print(f"  {status} in {result.seconds:.1f} s", flush=True)
        results.append((row, result))

    print()
    print(f"{'notebook':<46}{'phase':<16}{'wall time':>10}{'target':>9}{'time box':>10}  status")
    for row, r in results:
        within = "ok" if r.seconds <= row.run_target_s else "SLOW"
        status = "FAILED" if r.error else within
        print(f"{r.notebook.name:<46}{row.phase:<16}{r.seconds:>9.1f}s{row.run_target_s:>8}s"
              f"{_fmt_minutes(row.box_s):>10}  {status}")
    if not (args.bonus or args.store):
        print("\nThe bonus sections were not executed (their outputs are cleared in build/): BONUS=1 runs them.")
    print(f"\nExecuted notebooks and HTML in {shown_path(args.out)}/")
    return 1 if any(r.error for _, r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
