"""Shared fixtures of the workshop's test suite."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def make_notebook(tmp_path):
    """Write a notebook whose code cells are the given sources; return its path."""

    def make(*sources: str, name: str = "02_demo_test.ipynb") -> Path:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
        path = tmp_path / name
        nbformat.write(nb, path)
        return path

    return make
