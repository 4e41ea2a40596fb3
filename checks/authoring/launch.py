"""``python -m checks.authoring.launch``: write each notebook's "Open in Colab" badge and Colab launch cell.

Learners launch where they are: Colab (a badge in each notebook's first cell and in the README, plus a first code
cell that prepares a Colab session), a dev container (``.devcontainer/devcontainer.json``) or Binder
(``environment.yml`` + ``postBuild``). The solution notebooks are the masters: this command writes the badge and the
launch cell into ``solutions/*.ipynb``; ``make student`` copies them to ``notebooks/`` with the badge pointing at the
learner's copy. ``checks/tests/test_launch.py`` fails when a notebook is out of date.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat

from helpers.paths import PYPROJECT, REPO_ROOT, SOLUTIONS_DIR, shown_path

LAUNCH_TAG = "workshop-launch"
"""Cell tag of the Colab launch cell (so it is found, replaced and never graded)."""
BRANCH = "main"
COLAB_CLONE_DIR = "/content/transformers-workshop"
"""Where the launch cell clones the repository on Colab."""
_BADGE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\n?", re.MULTILINE)


def repository_url() -> str:
    """The public repository, from ``pyproject.toml``'s ``[project.urls] Repository``."""
    with PYPROJECT.open("rb") as handle:
        return tomllib.load(handle)["project"]["urls"]["Repository"].rstrip("/")


def colab_url(notebook: str | Path) -> str:
    """The Colab address that opens ``notebook`` (a path inside the repository) from GitHub."""
    relative = Path(notebook).resolve().relative_to(REPO_ROOT).as_posix()
    github = repository_url().removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/{BRANCH}/{relative}"


def badge(notebook: str | Path) -> str:
    """The Markdown "Open in Colab" badge for ``notebook``."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


def launch_cell_source() -> str:
    """The first code cell of every notebook: on Colab, clone and prepare; elsewhere, nothing."""
    return f'''# Google Colab only (elsewhere this cell does nothing): fetch the workshop, install its pinned packages
# (keeping Colab's own torch) and prepare the models. About 3 minutes, once per Colab session.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    REPOSITORY = "{repository_url()}"
    WORKSHOP = "{COLAB_CLONE_DIR}"
    if not os.path.isdir(WORKSHOP):
        subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, WORKSHOP], check=True)
    sys.path.insert(0, WORKSHOP)
    from helpers.colab import prepare

    prepare()'''


def with_badge(markdown: str, notebook: str | Path) -> str:
    """``markdown`` (a notebook's first cell) with its badge, placed under the title, pointing at ``notebook``."""
    body = _BADGE.sub("", markdown)
    title, _, rest = body.partition("\n")
    return f"{title}\n\n{badge(notebook)}\n\n{rest.lstrip(chr(10))}"


def is_launch_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and LAUNCH_TAG in cell.get("metadata", {}).get("tags", [])


def update(path: Path) -> bool:
    """Write the badge and the launch cell into the notebook at ``path``; ``True`` when the file changed."""
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    first = notebook.cells[0]
    first.source = with_badge(first.source, path)
    launch = [cell for cell in notebook.cells if is_launch_cell(cell)]
    if not launch:
        cell = nbformat.v4.new_code_cell(metadata={"tags": [LAUNCH_TAG]})
        notebook.cells.insert(1, cell)
        launch = [cell]
    launch[0].source = launch_cell_source()
    after = nbformat.writes(notebook)
    if after != before:
        path.write_text(after + ("\n" if not after.endswith("\n") else ""))
    return after != before


def main() -> int:
    for path in sorted(SOLUTIONS_DIR.glob("*.ipynb")):
        print(f"{'updated' if update(path) else 'up to date'}: {shown_path(path)}")
    print("Now run `make student` to copy them into notebooks/.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
