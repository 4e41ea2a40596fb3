"""Grading never costs the learner their work, stops what the notebook started, and says what a grade proves.

One test per case of issue 25: grading runs on a scratch copy of ``outputs/``; limits follow the machine measured
when grading starts; a process the notebook starts in a session of its own neither holds up nor outlives the
grading; a library function the checks call cannot be replaced to pass them; a report the notebook forges is not
believed; the memory probe's records from before the graded run are not trusted; the report says which checks are
tamper-evident only.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import psutil
import pytest

from checks.grader import grade_notebook
from checks.grader import limits as grading_limits
from checks.grader.limits import Limits
from checks.grader.schema import GradeReport
from helpers import paths

CORRECT = '''
import torch
def mean_pool(last_hidden_state, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
'''
WRONG = '''
def mean_pool(last_hidden_state, attention_mask):
    return last_hidden_state.mean(dim=1)
'''
SHORT = Limits(cell_s=8, notebook_s=30, checks_s=30)


def _checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def learner_outputs(tmp_path, monkeypatch):
    """A learner's ``outputs/`` with an adapter-like file, a results file and an old memory-probe record."""
    outputs = tmp_path / "outputs"
    (outputs / "challenge" / "adapter").mkdir(parents=True)
    (outputs / "challenge" / "adapter" / "adapter_model.safetensors").write_bytes(b"good weights")
    (outputs / "challenge" / "results.json").write_text('{"metrics": {"lora": 0.63}}')
    records = outputs / "challenge" / paths.MEMORY_RECORDS_DIR.name
    records.mkdir()
    (records / "4242-qlora.json").write_text('{"pid": 4242, "mode": "qlora", "peak_bytes": 1}')
    monkeypatch.setattr(paths, "OUTPUTS_DIR", outputs)
    monkeypatch.setattr(paths, "GRADING_DIR", tmp_path / "grading")
    return outputs


OVERWRITES = '''
from helpers.paths import CHALLENGE_DIR, MEMORY_RECORDS_DIR, OUTPUTS_DIR
assert (CHALLENGE_DIR / "results.json").read_text() == '{"metrics": {"lora": 0.63}}', "the copy has the learner's files"
old_records = sorted(p.name for p in MEMORY_RECORDS_DIR.glob("*.json")) if MEMORY_RECORDS_DIR.exists() else []
(CHALLENGE_DIR / "adapter" / "adapter_model.safetensors").write_bytes(b"under-trained weights")
(CHALLENGE_DIR / "results.json").unlink()
(OUTPUTS_DIR / "hub").mkdir()
'''


@pytest.mark.slow
def test_grading_works_on_a_copy_and_leaves_the_learners_outputs_byte_for_byte(make_notebook, learner_outputs):
    before = _checksums(learner_outputs)
    report = grade_notebook(make_notebook(OVERWRITES, CORRECT), "demo", limits=SHORT)
    assert report.cell_errors == [], "the graded run reads the learner's files from its copy"
    assert report.score == 3
    assert _checksums(learner_outputs) == before, "grading changed the learner's outputs/"
    assert not (paths.GRADING_DIR).exists() or not any(paths.GRADING_DIR.iterdir()), "the scratch copy is removed"


@pytest.mark.slow
def test_memory_records_from_before_the_graded_run_are_not_in_its_copy(make_notebook, learner_outputs):
    report = grade_notebook(make_notebook(OVERWRITES, "assert old_records == [], old_records", CORRECT), "demo",
                            limits=SHORT)
    assert report.cell_errors == [], "a record typed or left by an earlier run is not where the graded run looks"


def test_the_outputs_folder_is_one_setting_that_moves_every_output_path(tmp_path):
    import subprocess
    import sys

    code = ("from helpers import paths; print(paths.OUTPUTS_DIR, paths.CHALLENGE_DIR, paths.RESULTS_PATH, "
            "paths.QUANTIZATION_PATH, paths.HUB_STAGING_DIR, paths.MEMORY_RECORDS_DIR)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, paths.OUTPUTS_ENV_VAR: str(tmp_path / "scratch")})
    moved = done.stdout.split()
    assert len(moved) == 6 and all(Path(p).is_relative_to(tmp_path / "scratch") for p in moved), moved


# --------------------------------------------------------------------------- limits follow the machine


def test_limits_scale_with_the_machine_measured_at_the_start(monkeypatch):
    reference = grading_limits.REFERENCE_SPEED_TEST_S
    monkeypatch.setattr(grading_limits, "_speed_test", lambda: (3.0 * reference, 5.4 * reference, 2))
    machine = grading_limits.measure_machine()
    assert machine.speed == pytest.approx(3.0) and not machine.single_thread and machine.env == {}
    assert machine.note.startswith("Time limits x3.0:") and "\n" not in machine.note
    quiet = grading_limits.limits_for("challenge")
    busy = grading_limits.limits_for("challenge", speed=machine.speed)
    assert busy.cell_s == pytest.approx(3 * quiet.cell_s)
    assert busy.solution_cell_s == pytest.approx(3 * quiet.solution_cell_s)
    monkeypatch.setattr(grading_limits, "_speed_test", lambda: (0.5 * reference, 0.9 * reference, 2))
    machine = grading_limits.measure_machine()
    assert machine.speed == pytest.approx(0.5) and machine.note == ""
    fast = grading_limits.limits_for("challenge", speed=machine.speed)
    assert fast.cell_s == quiet.cell_s, "a fast machine keeps the limits: they are never cut"
    assert fast.solution_cell_s == pytest.approx(quiet.solution_cell_s / 2), "what the solution takes here"


def test_a_machine_whose_other_cores_are_busy_grades_on_one_thread(monkeypatch):
    reference = grading_limits.REFERENCE_SPEED_TEST_S
    monkeypatch.setattr(grading_limits, "_speed_test", lambda: (3.5 * reference, 1.6 * reference, 2))
    machine = grading_limits.measure_machine()
    assert machine.single_thread and machine.env == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert machine.speed == pytest.approx(1.6), "the limits follow the one-thread time the notebook will run at"
    assert machine.note.startswith("The other CPU cores are busy") and "x1.6" in machine.note


def test_make_grade_says_in_one_line_when_it_scaled_the_limits(monkeypatch, tmp_path, capsys):
    from checks.grader import __main__ as cli

    seen = {}

    def fake_grade(nb, scale, machine):
        seen["machine"] = machine
        return GradeReport(notebook=str(nb), part="demo", results=[])

    busy = grading_limits.Machine(speed=2.5, note="Time limits x2.5: this machine is busy.")
    monkeypatch.setattr(cli, "measure_machine", lambda: busy)
    monkeypatch.setattr(cli, "grade_notebook", fake_grade)
    assert cli.main(["02_demo_new.ipynb", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert out.count("Time limits x2.5: this machine is busy.") == 1 and seen["machine"] is busy


@pytest.mark.slow
def test_a_stopped_cell_says_how_long_the_solution_takes_here(make_notebook):
    limits = Limits(cell_s=3, notebook_s=30, checks_s=30, solution_cell_s=1.2)
    report = grade_notebook(make_notebook("import time\ntime.sleep(60)", CORRECT), "demo", limits=limits)
    assert "was stopped at the cell limit of 3 s" in report.problem
    assert "the solution's slowest cell takes about 1 s here" in report.problem, report.problem


# --------------------------------------------------------------------------- processes the notebook starts

BACKGROUND = '''
import subprocess, sys, pathlib
server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
pathlib.Path(r"{pidfile}").write_text(str(server.pid))
'''


@pytest.mark.slow
@pytest.mark.timeout(100)
def test_a_process_in_a_new_session_neither_holds_up_nor_outlives_the_grading(make_notebook, tmp_path):
    pidfile = tmp_path / "server.pid"
    started = time.monotonic()
    report = grade_notebook(make_notebook(BACKGROUND.format(pidfile=pidfile), CORRECT), "demo", limits=SHORT)
    assert report.score == 3 and time.monotonic() - started < SHORT.total_s
    pid = int(pidfile.read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, \
        "the notebook's background process outlived the grading"


# --------------------------------------------------------------------------- tamper evidence


@pytest.mark.slow
@pytest.mark.parametrize("attack", [
    "import torch\ntorch.allclose = lambda *a, **k: True",
    "import torch\ntorch.Tensor.__eq__ = lambda *a, **k: True",
])
def test_replacing_a_library_function_the_checks_call_is_caught(make_notebook, attack):
    report = grade_notebook(make_notebook(WRONG, attack), "demo", limits=SHORT)
    assert report.score == 0 and all(not r.ran for r in report.results), report.results
    assert report.problem.startswith("Not graded: code cell 2 (`import torch`) changed"), report.problem


FORGE = '''
from checks.grader.worker import Outcome, WorkerReport
import checks.grader.registry as r, sys, pathlib, os
pathlib.Path(sys.argv[3]).write_text(WorkerReport(results={{c.name: Outcome(passed=True, message="ok")
    for c in r.load_part("demo").checks}}).model_dump_json())
os._exit(0)
'''


@pytest.mark.slow
def test_a_report_the_notebook_writes_itself_is_not_believed(make_notebook):
    report = grade_notebook(make_notebook(WRONG, FORGE.format()), "demo", limits=SHORT)
    assert report.score == 0 and all(not r.ran for r in report.results), report.results
    assert "ended the Python process" in report.problem


def test_the_report_header_says_which_checks_are_tamper_evident_only(make_notebook, tmp_path, monkeypatch, capsys):
    from checks.grader import __main__ as cli

    monkeypatch.setattr(cli, "measure_machine", grading_limits.Machine)
    monkeypatch.setattr(cli, "grade_notebook",
                        lambda nb, scale, machine: GradeReport(notebook=str(nb), part="demo", results=[]))
    assert cli.main(["02_demo_new.ipynb", "--json", str(tmp_path / "r.json")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "self-assessment" in out and "tamper-evident only" in out and "clean process" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert "tamper-evident" in data["about"]
    readme = (paths.REPO_ROOT / "README.md").read_text()
    assert "tamper-evident" in " ".join(readme.split())

