"""Grader self-test: every check passes on solutions/ and fails on the untouched notebooks/."""

from __future__ import annotations

import pytest
from conftest import REPO_ROOT

from helpers.grading import available_parts, grade_notebook, load_part


def _notebook(folder: str, part: str):
    prefix = load_part(part).notebook_prefix
    matches = sorted((REPO_ROOT / folder).glob(f"{prefix}*.ipynb"))
    assert len(matches) == 1, f"expected one {folder}/{prefix}*.ipynb, found {matches}"
    return matches[0]


@pytest.mark.slow
@pytest.mark.parametrize("part", available_parts())
def test_every_check_passes_on_the_solution(part):
    report = grade_notebook(_notebook("solutions", part), part)
    failed = [(r.name, r.message) for r in report.results if not r.passed]
    assert not failed, failed
    assert not report.cell_errors, report.cell_errors


@pytest.mark.slow
@pytest.mark.parametrize("part", available_parts())
def test_every_check_fails_on_the_untouched_learner_notebook(part):
    report = grade_notebook(_notebook("notebooks", part), part)
    passed = [r.name for r in report.results if r.passed]
    assert not passed, f"checks that pass with no work done cannot fail: {passed}"
    assert all(r.message and r.hint for r in report.results)
