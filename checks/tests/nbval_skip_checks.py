"""pytest plugin: nbval does not execute a solution's ``helpers.check(...)`` cells.

The grader self-test (``test_autograders.py``, ``test_wrong_variants.py``) already runs every check of every
solution, and ``make run`` shows the check tables; in nbval they would only repeat that work (about 40 s of the
Exercise under the AVX2 stand-in). No later cell reads what a check cell returns, and no check cell's output is
compared (none is tagged ``nbval-check-output``). Loaded with ``-p nbval_skip_checks``.
"""

from __future__ import annotations

import ast

from nbval.plugin import IPyNbCell


def is_check_cell(source: str) -> bool:
    """Whether a cell is one ``helpers.check(...)`` call and nothing else."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    if len(body) != 1 or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Call):
        return False
    func = body[0].value.func
    return isinstance(func, ast.Attribute) and func.attr == "check" and isinstance(func.value, ast.Name) \
        and func.value.id == "helpers"


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell) and is_check_cell(item.cell.source):
            if "nbval-check-output" in item.cell.get("metadata", {}).get("tags", []):
                raise ValueError(f"{item.nodeid}: a check cell's output is compared; nbval_skip_checks skips it")
            item.options["skip"] = True  # nbval's own NBVAL_SKIP: the cell is reported as skipped, not run
