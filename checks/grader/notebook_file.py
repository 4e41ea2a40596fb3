"""The graded file itself: is it a notebook of this part, and where is a copy if it breaks.

A notebook that is not JSON, empty or of another part is the file's fault, not the learner's
code: the grader says so in one line (where a backup is, how to restore it) and runs nothing.
Every notebook that reads well is copied to ``build/backups/`` before it is graded, so a file
broken later (an editor crash, a bad merge) has a recent copy to return to.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from helpers.paths import BACKUPS_DIR, REPO_ROOT, shown_path

KEEP_BACKUPS = 3
"""Graded copies kept per notebook (the newest ones)."""


class NotebookFileError(ValueError):
    """The file cannot be graded as it is; the message is one line that says what to do."""


def _tracked_by_git(path: Path) -> bool:
    """Whether ``path`` is a file of this repository's git history (so ``git checkout`` can restore it)."""
    if not path.resolve().is_relative_to(REPO_ROOT):
        return False
    try:
        return subprocess.run(["git", "ls-files", "--error-unmatch", str(path.resolve())], cwd=REPO_ROOT,
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):  # no git here
        return False


def _restore_advice(path: Path) -> str:
    advice = []
    backup = latest_backup(path)
    if backup is not None:
        advice.append(f"the copy taken when it was last graded is {shown_path(backup)}")
    checkpoint = path.parent / ".ipynb_checkpoints" / f"{path.stem}-checkpoint.ipynb"
    if checkpoint.is_file():
        advice.append(f"JupyterLab's last checkpoint is {shown_path(checkpoint)}")
    if _tracked_by_git(path):
        advice.append(f"`git checkout -- {shown_path(path)}` restores the starting version (your answers are lost)")
    return "; ".join(advice) if advice else "restore it from a copy"


def read_notebook(path: Path, expected_prefix: str = ""):
    """The notebook at ``path`` (``nbformat.NotebookNode``, version 4) and its code cells' sources.

    Args:
        path: an existing file.
        expected_prefix: the file-name prefix of the part's notebook (``"02_demo"``); a file of another part's
            name is refused.

    Returns:
        ``(notebook, sources)``: ``sources`` lists the code cells' text, in order.

    Raises:
        NotebookFileError: empty, not JSON, not a notebook, of another part, or without code cells.
    """
    import nbformat

    name = shown_path(path)
    if path.stat().st_size == 0:
        raise NotebookFileError(f"{name} is empty (0 bytes): {_restore_advice(path)}.")
    try:
        notebook = nbformat.read(path, as_version=4)
    except nbformat.reader.NotJSONError:
        raise NotebookFileError(f"{name} is not a valid notebook (not JSON; an editor may have cut it short): "
                                f"{_restore_advice(path)}.") from None
    except Exception as err:  # nbformat raises several kinds for files that are JSON but no notebook
        raise NotebookFileError(f"{name} is not a valid notebook ({type(err).__name__}): "
                                f"{_restore_advice(path)}.") from None
    if not isinstance(notebook.get("cells"), list):
        raise NotebookFileError(f"{name} has no cells list, so it is not a notebook: {_restore_advice(path)}.")
    if expected_prefix and not path.name.startswith(expected_prefix) and path.name[:2].isdigit():
        raise NotebookFileError(f"{name} is not the {expected_prefix}… notebook this part grades: grade each "
                                "notebook with its own part (make grade NB=<the notebook>).")
    sources = [cell.get("source", "") for cell in notebook.cells if cell.get("cell_type") == "code"]
    if not any(source.strip() for source in sources):
        raise NotebookFileError(f"{name} has no code to grade: {_restore_advice(path)}.")
    return notebook, sources


def backup_notebook(path: Path, folder: Path | None = None) -> Path:
    """Copy ``path`` to ``folder/<stem>.graded-<YYYYmmdd-HHMMSS>.ipynb`` and keep the newest :data:`KEEP_BACKUPS`.

    ``folder`` defaults to ``build/backups``.

    Returns:
        The copy's path.
    """
    folder = folder or BACKUPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.stem}.graded-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"
    shutil.copy2(path, target)
    for old in sorted(folder.glob(f"{path.stem}.graded-*{path.suffix}"))[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    return target


def latest_backup(path: Path, folder: Path | None = None) -> Path | None:
    """The newest graded copy of ``path`` in ``folder`` (default ``build/backups``), or ``None``."""
    folder = folder or BACKUPS_DIR
    copies = sorted(folder.glob(f"{path.stem}.graded-*{path.suffix}"))
    return copies[-1] if copies else None


def first_line(source: str, width: int = 60) -> str:
    """A cell's first non-empty line, cut to ``width`` characters, to name the cell in a message."""
    line = next((text.strip() for text in source.splitlines() if text.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"
