"""Grader self-test: every check passes on solutions/ and fails on the untouched notebooks/."""

from __future__ import annotations

import pytest
from conftest import GRADING_TIMEOUT_S, VARIANT_PARTS, part_notebook

from grader import SOLUTION_KEY, available_parts, grade_notebook


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
