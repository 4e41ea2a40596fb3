"""``make student``: write the learners' notebooks from the solution notebooks.

In ``solutions/*.ipynb`` the answers sit between marker lines::

    def mean_pool(last_hidden_state, attention_mask):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

and, in markdown cells, between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``.
The learner's copy gets a stub that raises ``NotImplementedError`` naming the task
(the nearest heading above), with outputs and execution counts cleared.

Starter scripts (``solutions/*.py``, e.g. the challenge's inference script) use the same code
markers; their learner copy names the file as the task.
"""

from __future__ import annotations

import argparse
import re
import shutil
import time
from pathlib import Path

import nbformat

from helpers.paths import BACKUPS_DIR, NOTEBOOKS_DIR, SOLUTIONS_DIR, shown_path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
MD_STUB = "_Your answer here._"
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)


class SolutionMarkerError(ValueError):
    """Unbalanced or nested solution markers in a solution notebook."""


def _stub_code(source: str, task: str, where: str) -> str:
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise SolutionMarkerError(f"{where}, line {number}: '{BEGIN}' inside another solution block.")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            message = f"{task}: write your code here, see the instructions above."
            out.append(f'{indent}raise NotImplementedError("{message}")')
        elif stripped.startswith(END):
            if not inside:
                raise SolutionMarkerError(f"{where}, line {number}: '{END}' without '{BEGIN}'.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise SolutionMarkerError(f"{where}: '{BEGIN}' is never closed by '{END}'.")
    return "\n".join(out)


def _stub_markdown(source: str, where: str) -> str:
    pattern = re.compile(re.escape(MD_BEGIN) + r".*?" + re.escape(MD_END), re.DOTALL)
    result = pattern.sub(MD_STUB, source)
    if MD_BEGIN in result or MD_END in result:
        raise SolutionMarkerError(f"{where}: unbalanced '{MD_BEGIN}' / '{MD_END}'.")
    return result


def to_student(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the learner's version of a solution notebook (the input is not changed).

    Raises:
        SolutionMarkerError: a solution block is not closed, or closed twice.
    """
    student = nbformat.from_dict(nb)  # deep copy
    task = "Your turn"
    for index, cell in enumerate(student.cells, start=1):
        where = f"{name}, cell {index}"
        if cell.cell_type == "markdown":
            headings = _HEADING.findall(cell.source)
            if headings:
                task = re.sub(r"\s*\([^)]*\)$", "", headings[-1].strip()).replace('"', "'")  # no "(at home)"
            cell.source = _stub_markdown(cell.source, where)
        elif cell.cell_type == "code":
            cell.source = _stub_code(cell.source, task, where)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    student.metadata.pop("widgets", None)
    return student


def student_script(source: str, name: str = "script.py") -> str:
    """The learner's copy of a starter script: solution blocks replaced by stubs.

    Raises:
        SolutionMarkerError: a solution block is not closed, or closed twice.
    """
    return _stub_code(source, name, name) + "\n"


def student_text(source: Path) -> str:
    """What ``notebooks/<source.name>`` should hold for ``solutions/<source.name>`` (a notebook or a script)."""
    if source.suffix == ".py":
        return student_script(source.read_text(), source.name)
    from checks.authoring.launch import with_badge

    student = to_student(nbformat.read(source, as_version=4), source.name)
    if student.cells and student.cells[0].cell_type == "markdown":  # the Colab badge opens the learner's copy
        student.cells[0].source = with_badge(student.cells[0].source, NOTEBOOKS_DIR / source.name)
    return nbformat.writes(student) + "\n"


def write_students(solutions: Path, notebooks: Path, backups: Path | None = None) -> list[Path]:
    """Write ``notebooks/<name>`` for every ``solutions/<name>.ipynb`` and starter script ``*.py``.

    A learner file that differs from what would be written (someone worked in it) is first
    copied to ``backups/<stem>.<YYYYmmdd-HHMMSS><suffix>`` (default ``build/backups``), so
    resetting the notebooks never loses work.

    Returns:
        The paths written.
    """
    notebooks.mkdir(parents=True, exist_ok=True)
    backups = backups if backups is not None else BACKUPS_DIR
    stamp = time.strftime("%Y%m%d-%H%M%S")
    written = []
    for source in sorted([*solutions.glob("*.ipynb"), *solutions.glob("*.py")]):
        text = student_text(source)
        target = notebooks / source.name
        if target.exists() and target.read_text() != text:
            backups.mkdir(parents=True, exist_ok=True)
            saved = backups / f"{target.stem}.{stamp}{target.suffix}"
            shutil.copy2(target, saved)
            print(f"kept the previous {target.name} in {shown_path(saved)}")
        target.write_text(text)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make student", description="Write notebooks/ from solutions/.")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR)
    parser.add_argument("--out", type=Path, default=NOTEBOOKS_DIR)
    args = parser.parse_args(argv)
    try:
        written = write_students(args.solutions, args.out)
    except SolutionMarkerError as err:
        print(f"error: {err}")
        return 1
    for path in written:
        print(f"wrote {shown_path(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
