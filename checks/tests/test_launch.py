"""Launching where learners launch: Colab badges and launch cells, the dev container and Binder, checked by logic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from checks.authoring import launch
from helpers import colab
from helpers.paths import MODEL_REQUIREMENTS, NOTEBOOKS_DIR, PYPROJECT, REPO_ROOT, SOLUTIONS_DIR

NOTEBOOK_NAMES = sorted(p.name for p in SOLUTIONS_DIR.glob("*.ipynb"))
MAKE_TARGETS = set(re.findall(r"^([a-z-]+):", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE))


@pytest.mark.parametrize("folder", [SOLUTIONS_DIR, NOTEBOOKS_DIR], ids=["solutions", "notebooks"])
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_notebook_has_its_badge_and_the_launch_cell(folder, name):
    notebook = nbformat.read(folder / name, as_version=4)
    assert launch.badge(folder / name) in notebook.cells[0].source  # opens this very file on Colab
    assert launch.colab_url(folder / name).endswith(f"/blob/main/{folder.name}/{name}")
    (cell,) = [c for c in notebook.cells if launch.is_launch_cell(c)]
    assert notebook.cells.index(cell) == 1, "the launch cell must run before the set-up cell"
    assert cell.source == launch.launch_cell_source(), (
        "out of date: run python -m checks.authoring.launch, then make student")


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_the_readme_links_each_learner_notebook_to_colab(name):
    assert launch.colab_url(NOTEBOOKS_DIR / name) in (REPO_ROOT / "README.md").read_text()


def test_outside_colab_the_launch_cell_does_nothing(tmp_path):
    code = launch.launch_cell_source() + "\nimport os\nprint(os.getcwd(), 'helpers.colab' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.split() == [str(tmp_path), "False"]


def test_on_colab_the_cell_clones_installs_without_torch_and_prepares_the_models(tmp_path, monkeypatch):
    """Run the launch cell with a fake `google.colab` module and a recording subprocess.run."""
    commands: list[list[str]] = []
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(list(command)))
    monkeypatch.setattr(colab, "COLAB_STAMP", tmp_path / ".colab-installed")  # pins are read from the real file
    monkeypatch.setattr(colab, "NOTEBOOKS_DIR", tmp_path)
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = os.getcwd()
    try:
        exec(compile(launch.launch_cell_source(), "launch-cell", "exec"), {})
        assert os.getcwd() == str(tmp_path)
    finally:
        os.chdir(before)
    clone, install, models, editable, prepare = commands
    assert clone[:4] == ["git", "clone", "--depth", "1"] and clone[4] == launch.repository_url()
    assert "torch==" not in " ".join(install) and "transformers==" in " ".join(install)
    assert models[-2:] == ["-r", str(MODEL_REQUIREMENTS)] and "--no-deps" in models
    assert "-e" in editable and "--no-deps" in editable
    assert prepare[-2:] == ["-m", "helpers.model_cache"]
    assert (tmp_path / ".colab-installed").exists()


def test_the_dev_container_runs_the_readmes_commands():
    config = json.loads((REPO_ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert "python:1-3.11" in config["image"]  # the tested Python
    command = config["postCreateCommand"].split()
    assert command[0] == "make" and set(command[1:]) <= MAKE_TARGETS and {"setup", "models"} <= set(command[1:])
    assert 8888 in config["forwardPorts"]  # JupyterLab's port (make lab)
    assert config["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"].endswith(".venv/bin/python")


def test_binder_builds_with_environment_yml_and_the_same_make_targets():
    post_build = REPO_ROOT / "postBuild"
    assert os.access(post_build, os.X_OK)
    (make_line,) = [line for line in post_build.read_text().splitlines() if line.startswith("make ")]
    targets = [word for word in make_line.split()[1:] if "=" not in word]
    assert targets == ["setup", "models"] and set(targets) <= MAKE_TARGETS
    assert "VENV=" in make_line  # the conda environment stands in for .venv
    environment = (REPO_ROOT / "environment.yml").read_text()
    assert "python=3.11" in environment and "-r requirements.txt" in environment


def test_make_setup_accepts_311_to_313_and_refuses_310_with_the_reason():
    check = next(line for line in (REPO_ROOT / "Makefile").read_text().splitlines() if "sys.version_info" in line)
    code = check.strip().removeprefix("@$(PYTHON) -c '").removesuffix("'")
    for version, accepted in [((3, 10), False), ((3, 11), True), ((3, 12), True), ((3, 13), True), ((3, 14), False)]:
        fake = f"import sys; sys.version_info = {(*version, 0, 'final', 0)!r}\n" + code
        done = subprocess.run([sys.executable, "-c", fake], capture_output=True, text=True, timeout=30, check=False)
        assert (done.returncode == 0) == accepted, (version, done.stderr)
        if not accepted:
            assert "3.11, 3.12 or 3.13" in done.stderr and "make resolve" in done.stderr


def test_the_launch_cell_is_not_graded_code():
    """The grader executes every code cell: outside Colab the launch cell must define nothing it could check."""
    namespace: dict = {}
    exec(compile(launch.launch_cell_source(), "launch-cell", "exec"), namespace)
    assert set(namespace) - {"__builtins__"} == {"sys"}


def test_repository_url_is_one_setting():
    assert launch.repository_url().startswith("https://github.com/")
    assert PYPROJECT.read_text().count(launch.repository_url()) == 1
