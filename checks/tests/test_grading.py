"""The grading machinery: checks fail on wrong answers; broken notebooks never crash the grader."""

from __future__ import annotations

import json

import pytest

from checks.grader import expect, grade_notebook, load_part, run_checks
from checks.grader.__main__ import main as grade_main
from checks.grader.limits import GRACE_S, Limits, Machine

CORRECT = '''
import torch
def mean_pool(last_hidden_state, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
'''


def _correct(h, m):
    mask = m.unsqueeze(-1).float()
    return (h * mask).sum(1) / mask.sum(1)


def _no_mask(h, m):
    return h.mean(dim=1)


def _in_place(h, m):
    h *= m.unsqueeze(-1)
    return h.sum(1) / m.sum(1, keepdim=True)


def _wrong_dim(h, m):
    return (h * m.unsqueeze(-1)).sum(-1)


def _returns_list(h, m):
    return _correct(h, m).tolist()


def _failing(part: str, ns: dict) -> set[str]:
    return {r.name for r in run_checks(load_part(part), ns) if not r.passed}


SHAPE = "mean_pool returns one float vector per sentence"
MASK = "mean_pool averages only the real tokens (padding ignored)"
INPLACE = "mean_pool leaves its inputs unchanged"


def test_demo_checks_pass_on_the_right_answer():
    assert _failing("demo", {"mean_pool": _correct}) == set()


@pytest.mark.parametrize(("wrong", "caught_by"), [
    (_no_mask, {MASK}),
    (_in_place, {INPLACE}),
    (_wrong_dim, {SHAPE, MASK}),
    (_returns_list, {SHAPE, MASK}),
])
def test_each_demo_mistake_is_caught_by_its_check(wrong, caught_by):
    assert _failing("demo", {"mean_pool": wrong}) == caught_by


def test_failure_messages_teach():
    results = {r.name: r for r in run_checks(load_part("demo"), {"mean_pool": _no_mask})}
    assert "real tokens" in results[MASK].message and "attention" in results[MASK].hint


def test_missing_function_fails_every_check_by_name():
    results = run_checks(load_part("demo"), {})
    assert all(not r.passed and "`mean_pool` is not defined" in r.message for r in results)


def test_stub_is_reported_as_not_implemented():
    def stub(h, m):
        raise NotImplementedError

    results = run_checks(load_part("demo"), {"mean_pool": stub})
    assert all("Not implemented yet" in r.message for r in results)


def test_unknown_part_and_task_are_clear():
    with pytest.raises(ValueError, match="Available"):
        load_part("nope")
    with pytest.raises(ValueError, match="Tasks"):
        load_part("demo").select("Task 99")


def test_a_grading_only_check_is_listed_as_not_run_in_a_notebook_and_runs_in_make_grade():
    from checks.grader.registry import Part
    from checks.grader.report import format_results, results_html

    part, calls = Part("slow"), []

    @part.check("the slow one", task="Task 1", hint="h", grading_only="it scores 100 hidden tickets (a minute)")
    def _slow(ns):
        calls.append(ns)
        expect(False, "wrong")

    @part.check("the quick one", task="Task 1", hint="h")
    def _quick(ns):
        calls.append(ns)

    live = run_checks(part, {"x": 1}, "Task 1", live=True)
    assert len(calls) == 1 and [r.ran for r in live] == [False, True] and not live[0].passed
    assert "make grade" in live[0].message and "100 hidden tickets" in live[0].message
    table = format_results(live, "Checks")
    assert "[----] the slow one" in table and "score: core 1/2  (1 check not run)" in table
    assert "&ndash;" in results_html(live, "Checks") and "1 check not run" in results_html(live, "Checks")
    graded = run_checks(part, {"x": 1}, "Task 1")  # make grade: every check runs, and the slow one fails
    assert len(calls) == 3 and [r.passed for r in graded] == [False, True] and graded[0].message == "wrong"


def test_only_the_model_loading_checks_wait_for_make_grade():
    """check() answers within seconds: the checks that load models of their own run in make grade only."""
    from checks.grader.limits import CHECK_BUDGET_S

    slow = {part: [c for c in load_part(part).checks if c.grading_only]
            for part in ("concept", "demo", "exercise", "challenge", "reflection")}
    assert not slow["concept"] and not slow["demo"] and not slow["exercise"] and not slow["reflection"]
    assert CHECK_BUDGET_S == 10.0
    assert [c.task for c in slow["challenge"]] == ["Task 3: save and reload", "Bonus C: inference script"]
    assert all("s on a laptop CPU" in c.grading_only or "minutes on a laptop CPU" in c.grading_only
               for c in slow["challenge"])


# ------------------------------------------------------------ whole notebooks, separate process


@pytest.mark.slow
def test_grading_a_notebook_gets_real_objects(make_notebook):
    report = grade_notebook(make_notebook("x = 1", CORRECT, "helpers_check = None"), "demo")
    assert report.score == report.total == 3 and not report.cell_errors


@pytest.mark.slow
def test_a_raising_cell_is_reported_and_grading_goes_on(make_notebook):
    report = grade_notebook(make_notebook("1 / 0", CORRECT), "demo")
    assert report.score == 3
    assert report.cell_errors == [{"cell": 1, "error": "ZeroDivisionError: division by zero"}]


SHORT = Limits(cell_s=8, notebook_s=30, checks_s=30)
"""Limits for these small notebooks: a stopped cell costs seconds, not the demo's real limit."""


@pytest.mark.slow
def test_an_endless_loop_is_stopped_at_the_cell_limit_and_the_rest_is_graded(make_notebook):
    report = grade_notebook(make_notebook("import time\nwhile True:\n    time.sleep(0.1)", CORRECT), "demo",
                            limits=SHORT)
    assert report.score == report.total == 3, "the cells after the stopped one still ran and were graded"
    assert "Code cell 1 (`import time`) was stopped at the cell limit of 8 s" in report.problem
    assert report.seconds < 8 + 20


@pytest.mark.slow
def test_a_function_stopped_once_fails_at_once_afterwards(make_notebook):
    looping = "def mean_pool(last_hidden_state, attention_mask):\n    while True:\n        pass"
    calls = "pooled = [mean_pool(None, None) for _ in range(2)]"  # a comprehension's frame is not the stuck function
    report = grade_notebook(make_notebook(looping, calls, calls), "demo", limits=SHORT)
    assert report.problem == "Code cell 2 (`pooled = [mean_pool(None, None) for _ in range(2)]`) was stopped at " \
                             "the cell limit of 8 s", "cell 3 failed at once instead of looping again"
    assert report.score == 0 and report.seconds < 8 + 20, "the checks did not wait for the loop again"
    assert all("mean_pool() did not finish within 8 s when grading called it before" in r.message
               for r in report.results), report.results


@pytest.mark.slow
def test_a_check_calling_an_endless_function_is_stopped_and_named(make_notebook):
    looping = "def mean_pool(last_hidden_state, attention_mask):\n    while True:\n        pass"
    report = grade_notebook(make_notebook(looping), "demo", limits=SHORT)
    first, *others = report.results
    assert first.message.startswith("the check was stopped after 8 s: mean_pool() did not finish")
    assert all("did not finish within 8 s when grading called it before" in r.message for r in others)
    assert report.seconds < 8 + 20


@pytest.mark.slow
def test_the_notebook_limit_skips_the_cells_it_leaves_no_time_for(make_notebook):
    limits = Limits(cell_s=5, notebook_s=7, checks_s=30)
    report = grade_notebook(make_notebook("import time\ntime.sleep(4)", "time.sleep(4)", CORRECT), "demo",
                            limits=limits)
    assert "Code cell 2 (`time.sleep(4)`) was stopped at the notebook's limit of 7 s" in report.problem
    assert "code cell 3 did not run" in report.problem
    assert report.score == 0 and "`mean_pool` is not defined" in report.results[0].message
    assert "code cell 2 (`time.sleep(4)`) was stopped: see the problem above" in report.results[0].message


@pytest.mark.slow
def test_a_cell_that_swallows_the_limit_is_killed_by_the_parent(make_notebook):
    stubborn = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    report = grade_notebook(make_notebook(CORRECT, stubborn), "demo",
                            limits=Limits(cell_s=2, notebook_s=2, checks_s=2))
    assert report.score == 0 and all(not r.ran for r in report.results)
    assert "Code cell 2 (`while True:`) was still running when grading reached its limit" in report.problem
    assert report.seconds < 2 + 2 + GRACE_S + 15


@pytest.mark.slow
def test_input_is_answered_at_once_with_what_to_do(make_notebook):
    report = grade_notebook(make_notebook("name = input('your name? ')", CORRECT), "demo", limits=SHORT)
    assert report.score == 3 and report.seconds < 30
    assert report.cell_errors == [{"cell": 1, "error": "RuntimeError: input() cannot be answered while grading: "
                                                       "remove it (or give the value in the code)."}]


@pytest.mark.slow
def test_os_exit_names_the_cell_that_ended_the_process(make_notebook):
    report = grade_notebook(make_notebook(CORRECT, "import os\nos._exit(0)"), "demo", limits=SHORT)
    assert report.score == 0 and all(not r.ran for r in report.results)
    assert report.problem.startswith("Code cell 2 (`import os`) ended the Python process (exit code 0, as os._exit")
    assert "RuntimeWarning" not in report.problem and "runpy" not in report.problem


@pytest.mark.slow
def test_a_crash_names_the_cell_and_the_signal(make_notebook):
    report = grade_notebook(make_notebook("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"), "demo",
                            limits=SHORT)
    assert "Code cell 1 (`import os, signal`) crashed the Python process with SIGSEGV" in report.problem


@pytest.mark.parametrize("content, says", [
    (b"", "is empty (0 bytes)"),
    (b'{"cells": [ {"cell_type": "code", "sou', "is not a valid notebook (not JSON"),
    (b'{"hello": 1}', "is not a valid notebook"),
    (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "has no code to grade"),
])
def test_a_broken_file_gives_one_line_and_lists_the_checks_once_as_not_run(tmp_path, content, says, capsys):
    path = tmp_path / "02_demo_broken.ipynb"
    path.write_bytes(content)
    report = grade_notebook(path, "demo")
    assert says in report.problem and "\n" not in report.problem and "Traceback" not in report.problem
    assert report.seconds < 5 and all(not r.ran and not r.passed for r in report.results)
    assert grade_main([str(path), "--json", str(tmp_path / "report.json")]) == 0
    printed = capsys.readouterr().out
    assert printed.count(says) == 1, printed
    assert printed.count("[----]") == len(report.results) and "score: core 0/3  (3 checks not run)" in printed


def test_a_broken_notebook_points_to_its_backup_and_to_git(tmp_path, monkeypatch):
    import checks.grader.notebook_file as notebook_file

    monkeypatch.setattr(notebook_file, "BACKUPS_DIR", tmp_path / "backups")
    good = tmp_path / "02_demo_mine.ipynb"
    good.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    copy = notebook_file.backup_notebook(good, tmp_path / "backups")
    good.write_text('{"cells": [')
    with pytest.raises(notebook_file.NotebookFileError, match=f"last graded is {copy}") as err:
        notebook_file.read_notebook(good)
    assert "\n" not in str(err.value)
    for _ in range(5):
        notebook_file.backup_notebook(good, tmp_path / "backups")
    assert len(list((tmp_path / "backups").glob("*.ipynb"))) <= notebook_file.KEEP_BACKUPS
    inside = notebook_file.REPO_ROOT / "notebooks" / "02_demo_loading_and_using_models.ipynb"
    assert "git checkout -- notebooks/02_demo" in notebook_file._restore_advice(inside)


def test_a_notebook_of_another_part_is_refused(make_notebook):
    report = grade_notebook(make_notebook(CORRECT, name="01_concept_mine.ipynb"), "demo")
    assert "is not the 02_demo… notebook this part grades" in report.problem and report.score == 0


@pytest.mark.slow
@pytest.mark.parametrize("attack", [
    "import checks.grader.registry\nchecks.grader.registry.run_check = lambda check, ns: None",
    "from checks.grader import load_part\nfor c in load_part('demo').checks:\n"
    "    object.__setattr__(c, 'func', lambda ns: None)",
    "import sys, types\nsys.modules['checks.grader.registry'] = types.ModuleType('checks.grader.registry')",
    "import builtins\nbuiltins.isinstance = lambda *a: True",
    "import checks.grader.worker\nchecks.grader.worker.run_limited.__code__ = (lambda *a, **k: None).__code__",
])
def test_a_notebook_that_modifies_the_grading_code_scores_nothing(make_notebook, attack):
    report = grade_notebook(make_notebook(attack, "x = 1"), "demo", limits=SHORT)
    assert report.score == 0 and all(not r.ran for r in report.results)
    assert report.problem.startswith("Not graded: code cell 1 (") and "changed the grading code" in report.problem


@pytest.mark.slow
def test_what_the_notebook_puts_in_the_temp_folder_is_removed_with_the_grading(make_notebook):
    import tempfile
    from pathlib import Path

    report = grade_notebook(make_notebook("import tempfile\nfolder = tempfile.mkdtemp(prefix='leftover-')", CORRECT),
                            "demo", limits=SHORT)
    assert report.score == 3
    assert not list(Path(tempfile.gettempdir()).glob("leftover-*")), "a graded notebook's temp folder outlived it"


@pytest.mark.slow
def test_points_come_from_the_parent_not_from_the_notebook(make_notebook, tmp_path):
    forge = ("import checks.grader.registry as r\n"
             "for c in r.load_part('demo').checks:\n    object.__setattr__(c, 'points', 1000)\n"
             "from checks.grader.worker import Outcome, WorkerReport\n"
             "import sys, pathlib, os\n"
             "out = pathlib.Path(sys.argv[3])\n"
             "out.write_text(WorkerReport(results={c.name: Outcome(passed=True, message='ok') "
             "for c in r.load_part('demo').checks} | {'invented': Outcome(passed=True, message='ok')})"
             ".model_dump_json())\n"
             "os._exit(0)")
    report = grade_notebook(make_notebook(forge), "demo", limits=SHORT)
    assert report.total == 3 and report.score <= 3, "points and totals are the parent's"
    assert {r.name for r in report.results} == {c.name for c in load_part("demo").checks}


@pytest.mark.slow
def test_sys_exit_and_magics_do_not_stop_grading(make_notebook):
    report = grade_notebook(make_notebook("%matplotlib inline", "import sys\nsys.exit(1)", CORRECT), "demo")
    assert report.score == 3 and report.cell_errors[0]["cell"] == 2


@pytest.mark.slow
def test_make_grade_prints_a_table_and_writes_json(make_notebook, tmp_path, capsys):
    nb = make_notebook(CORRECT)
    out = tmp_path / "report.json"
    assert grade_main([str(nb), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[PASS] mean_pool leaves its inputs unchanged" in printed and "3/3" in printed
    data = json.loads(out.read_text())
    assert data["score"] == 3 and data["notebooks"][0]["part"] == "demo"


def test_the_report_keeps_the_latest_result_of_every_part(tmp_path, monkeypatch):
    from checks.grader import __main__ as cli
    from checks.grader.schema import GradeReport

    def results(passed: int, total: int) -> list[dict]:
        return [{"name": f"check {n}", "task": f"Task {n}", "passed": n <= passed} for n in range(1, total + 1)]

    out = tmp_path / "report.json"
    out.write_text(json.dumps({"notebooks": [
        {"part": "exercise", "score": 5, "total": 22, "notebook": "x", "results": results(5, 22)},
        {"part": "demo", "score": 0, "total": 3, "notebook": "y", "results": results(0, 3)}]}))
    monkeypatch.setattr(cli, "grade_notebook",
                        lambda nb, scale, machine: GradeReport(notebook=str(nb), part="demo", results=[]))
    monkeypatch.setattr(cli, "measure_machine", Machine)
    assert cli.main(["02_demo_new.ipynb", "--json", str(out)]) == 0
    parts = {r["part"]: r for r in json.loads(out.read_text())["notebooks"]}
    assert parts["exercise"]["score"] == 5, "a part not graded this time keeps its earlier result"
    assert parts["demo"]["notebook"] == "02_demo_new.ipynb" and "graded_at" in parts["demo"]
    out.write_text("{not json")
    assert cli.main(["02_demo_new.ipynb", "--json", str(out)]) == 0, "a damaged report is replaced, not fatal"


def test_make_grade_on_a_missing_file_is_a_clear_error(capsys):
    assert grade_main(["no/such.ipynb"]) == 2
    assert "No notebook at no/such.ipynb" in capsys.readouterr().err


def test_check_in_a_notebook_returns_results_outside_jupyter(capsys):
    from checks.grader import check

    mean_pool = _correct  # noqa: F841  (check() reads the caller's variables)
    results = check("demo")
    assert results is not None and all(r.passed for r in results)
    assert "score: core 3/3" in capsys.readouterr().out
