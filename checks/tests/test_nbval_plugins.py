"""The nbval plugins of ``make test``: which solution cells nbval skips."""

from __future__ import annotations

import nbformat
import pytest

from checks.tests.nbval_skip_checks import is_check_cell
from helpers.paths import SOLUTIONS_DIR


@pytest.mark.parametrize(("source", "skipped"), [
    ('helpers.check("exercise", "Task 2")', True),
    ('helpers.check("concept")\n', True),
    ('results = helpers.check("demo")', False),  # its value is used: the cell runs
    ('helpers.check("demo")\nprint("done")', False),
    ('check("demo")', False),
    ("helpers.setup()", False),
    ("def f(:", False),
])
def test_only_a_lone_check_call_is_skipped(source, skipped):
    assert is_check_cell(source) is skipped


def test_no_compared_output_comes_from_a_skipped_cell():
    skipped = 0
    for path in sorted(SOLUTIONS_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and is_check_cell(cell.source):
                skipped += 1
                assert "nbval-check-output" not in cell.metadata.get("tags", []), path.name
    assert skipped >= 10  # every part's check cells
