"""The Bonus C check passes the solution's inference script and fails scripts that do not answer with ``--adapter``.

The check runs alone (``run_checks`` on the task "Bonus C: inference script") on a namespace with ``INFERENCE_SCRIPT``
and ``ADAPTER_DIR``, as ``make grade``'s clean process gives it. It needs the trained adapter of the challenge's
solution (``outputs/challenge/adapter``): the solution run of test_autograders.py writes it, so these tests run after
it in a full ``make test`` and skip where it is missing. Each test starts the script twice (about 8 s each on a 2-core
CPU) and generates the grader's own answers.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

from checks.grader import load_part, run_checks
from checks.tests.conftest import VARIANTS_DIR
from helpers.paths import ADAPTER_DIR, SOLUTIONS_DIR

TASK = "Bonus C: inference script"
SOLUTION_SCRIPT = SOLUTIONS_DIR / "answer_tickets.py"
LOAD_ADAPTER = "model = PeftModel.from_pretrained(base, str(adapter_dir)).eval()"
"""The solution's line that loads the adapter given by ``--adapter``; the wrong scripts below replace it."""


@pytest.fixture
def adapter() -> Path:
    """The trained adapter of the challenge's solution; the test is skipped where no solution run wrote it."""
    if not (ADAPTER_DIR / "adapter_model.safetensors").is_file():
        pytest.skip(f"no trained adapter in {ADAPTER_DIR}: run the challenge's solution first (test_autograders.py)")
    return ADAPTER_DIR


def _result(script: Path, adapter_dir: Path):
    """The script check's one result for ``script`` run with ``--adapter adapter_dir``."""
    (result,) = run_checks(load_part("challenge"), {"INFERENCE_SCRIPT": str(script), "ADAPTER_DIR": str(adapter_dir)},
                           TASK)
    return result


def _solution_with(tmp_path: Path, new_line: str) -> Path:
    """A copy of the solution's script whose adapter-loading line is ``new_line``."""
    source = SOLUTION_SCRIPT.read_text()
    assert LOAD_ADAPTER in source, "the solution no longer loads the adapter with the line this test replaces"
    script = tmp_path / "answer_tickets.py"
    script.write_text(source.replace(LOAD_ADAPTER, new_line))
    return script


def _variant(name: str) -> tuple[Path, str]:
    """``(INFERENCE_SCRIPT, MESSAGE)`` of a wrong variant; its script's folder is removed by the caller."""
    values = runpy.run_path(str(VARIANTS_DIR / "challenge" / f"{name}.py"))
    return Path(values["INFERENCE_SCRIPT"]), values["MESSAGE"]


@pytest.mark.slow
def test_the_solution_script_passes(adapter):
    result = _result(SOLUTION_SCRIPT, adapter)
    assert result.passed, result.message


@pytest.mark.slow
@pytest.mark.parametrize("name", ["script_ignores_adapter", "script_prints_text"])
def test_a_script_without_the_model_fails_with_its_variants_message(adapter, name):
    """Hand-written rules (valid records with allowed values, four of the five new messages right) and prose."""
    script, message = _variant(name)
    try:
        result = _result(script, adapter)
    finally:
        shutil.rmtree(script.parent)
    assert not result.passed and message in result.message, result.message


@pytest.mark.slow
def test_a_script_that_loads_the_base_model_only_fails(adapter, tmp_path):
    script = _solution_with(tmp_path, "model = base.eval()  # --adapter is never read")
    result = _result(script, adapter)
    assert not result.passed and "not a JSON record with allowed values" in result.message, result.message


@pytest.mark.slow
def test_a_script_that_loads_the_adapter_from_a_fixed_path_fails(adapter, tmp_path):
    """The same weights in another folder: the graded run agrees with the adapter; the control run gives it away."""
    copy = shutil.copytree(adapter, tmp_path / "adapter")
    script = _solution_with(tmp_path, f"model = PeftModel.from_pretrained(base, {str(adapter)!r}).eval()")
    result = _result(script, copy)
    assert not result.passed and "the same answers with a different adapter" in result.message, result.message
