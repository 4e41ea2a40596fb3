"""The grading machinery: checks fail on wrong answers; broken notebooks never crash the grader."""

from __future__ import annotations

import json

import pytest

from grader import grade_notebook, load_part, run_checks
from grader.__main__ import main as grade_main

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


@pytest.mark.slow
def test_an_endless_loop_times_out_into_failed_checks(make_notebook):
    report = grade_notebook(make_notebook(CORRECT, "while True:\n    pass"), "demo", timeout=20)
    assert report.score == 0 and len(report.results) == 3
    assert "did not finish within 20 s" in report.problem


@pytest.mark.slow
def test_a_notebook_that_kills_its_process_fails_with_a_message(make_notebook):
    report = grade_notebook(make_notebook(CORRECT, "import os\nos._exit(3)"), "demo")
    assert report.score == 0 and "exit code 3" in report.results[0].message


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
    from grader import __main__ as cli
    from grader.runner import GradeReport

    out = tmp_path / "report.json"
    out.write_text(json.dumps({"notebooks": [
        {"part": "exercise", "score": 5, "total": 22, "notebook": "x", "results": []},
        {"part": "demo", "score": 0, "total": 3, "notebook": "y", "results": []}]}))
    monkeypatch.setattr(cli, "grade_notebook", lambda nb, timeout: GradeReport(str(nb), "demo", []))
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
    from grader import check

    mean_pool = _correct  # noqa: F841  (check() reads the caller's variables)
    results = check("demo")
    assert results is not None and all(r.passed for r in results)
    assert "score: 3/3" in capsys.readouterr().out
