"""Grader self-test: every check passes on solutions/ and fails on the untouched notebooks/."""

from __future__ import annotations

import pytest

from checks.grader import SOLUTION_KEY, available_parts, grade_notebook
from checks.tests.conftest import GRADING_TIMEOUT_S, VARIANT_PARTS, part_notebook


@pytest.mark.slow
@pytest.mark.timeout(GRADING_TIMEOUT_S)
@pytest.mark.parametrize("part", available_parts())
def test_every_check_passes_on_the_solution(part, graded_variants):
    if part in VARIANT_PARTS:  # the same run grades the wrong variants (it raises on a cell error)
        results = graded_variants(part)[SOLUTION_KEY]
    else:
        report = grade_notebook(part_notebook("solutions", part), part)
        assert not report.cell_errors, report.cell_errors
        results = report.results
    failed = [(r.name, r.message) for r in results if not r.passed]
    assert not failed, failed


@pytest.mark.slow
@pytest.mark.parametrize("part", available_parts())
def test_every_check_fails_on_the_untouched_learner_notebook(part):
    report = grade_notebook(part_notebook("notebooks", part), part)
    passed = [r.name for r in report.results if r.passed]
    assert not passed, f"checks that pass with no work done cannot fail: {passed}"
    assert all(r.message and r.hint for r in report.results)


@pytest.mark.slow
def test_a_challenge_cut_short_keeps_the_results_of_the_cells_that_finished(tmp_path):
    """A busy machine: the notebook's limit runs out in the middle (here: a cell that sleeps before Task 2).

    The set-up, the given data and evaluation (the base model's score) and Task 1 take about 30 s natively and 45 s
    under the AVX2 stand-in: 100 s leaves room for a slower machine without sleeping longer than needed.
    """
    import nbformat

    from checks.grader.limits import Limits

    limit_s = 100
    solution = nbformat.read(part_notebook("solutions", "challenge"), as_version=4)
    task2 = next(i for i, cell in enumerate(solution.cells)
                 if cell.cell_type == "markdown" and cell.source.startswith("## Task 2"))
    solution.cells.insert(task2, nbformat.v4.new_code_cell("import time\ntime.sleep(10**6)"))
    copy = tmp_path / "04_challenge_busy.ipynb"
    nbformat.write(solution, copy)
    report = grade_notebook(copy, "challenge", limits=Limits(cell_s=3600, notebook_s=limit_s, checks_s=600))
    by_task = {}
    for r in report.results:
        by_task.setdefault(r.task.split(":")[0], []).append(r)
    assert by_task["Task 1"] and all(r.passed for r in by_task["Task 1"]), report.results
    assert f"was stopped at the notebook's limit of {limit_s} s" in report.problem and "did not run" in report.problem
    later = [r for task in ("Task 2", "Task 3") for r in by_task[task]]
    assert later and not any(r.passed for r in later)
    assert all("(`import time`) was stopped: see the problem above" in r.message for r in later if r.ran)
