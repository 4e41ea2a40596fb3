"""pytest plugin: nbval does not execute a solution's ``helpers.check(...)`` cells.

The grader self-test (``test_autograders.py``, ``test_wrong_variants.py``) already runs every check of every
solution, and ``make run`` shows the check tables; in nbval they would only repeat that work (about 40 s of the
Exercise under the AVX2 stand-in). No later cell reads what a check cell returns, and no check cell's output is
compared (none is tagged ``nbval-check-output``). Loaded with ``-p nbval_skip_checks``.
"""

from __future__ import annotations

from nbval.plugin import IPyNbCell

from checks.bench.notebooks import check_call


def is_check_cell(source: str) -> bool:
    """Whether a cell is one ``helpers.check(...)`` call and nothing else
    (:func:`checks.bench.notebooks.check_call`)."""
    return check_call(source) is not None


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell) and is_check_cell(item.cell.source):
            if "nbval-check-output" in item.cell.get("metadata", {}).get("tags", []):
                raise ValueError(f"{item.nodeid}: a check cell's output is compared; nbval_skip_checks skips it")
            item.options["skip"] = True  # nbval's own NBVAL_SKIP: the cell is reported as skipped, not run
