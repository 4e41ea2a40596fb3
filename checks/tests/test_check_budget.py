"""The check() budget: one home (checks.grader.limits.CHECK_BUDGET_S), and make bench flags every check cell over it."""

from __future__ import annotations

import pytest

from checks.bench import __main__ as bench_main
from checks.bench import machine, notebooks, report
from checks.grader import limits
from checks.grader.limits import CHECK_BUDGET_S
from checks.tests.test_bench import _executed, _run


def test_the_budget_is_a_positive_number_of_seconds_below_the_grading_floor_of_a_check():
    """A check that fits the budget is never stopped by make grade's per-check limit (at least MIN_CHECK_S)."""
    assert 0 < CHECK_BUDGET_S <= limits.MIN_CHECK_S


@pytest.mark.parametrize(("seconds", "over"), [(CHECK_BUDGET_S - 0.5, False), (CHECK_BUDGET_S, False),
                                               (CHECK_BUDGET_S + 0.5, True)])
def test_a_check_cell_over_the_budget_is_flagged(seconds, over):
    nb = _executed([("code", "trainer.train()", 3 * CHECK_BUDGET_S),  # a slow cell that is not a check
                    ("code", 'helpers.check("exercise", "Task 1")', seconds),
                    ("code", 'helpers.check("exercise")', 1.0)])
    run = notebooks.timings(nb, "03_exercise_x.ipynb", seconds=60.0)
    assert [(c.task, c.over_budget) for c in run.checks] == [("Task 1", over), ("(all)", False)]


def test_the_summary_names_each_slow_check_cell_slowest_first():
    slow = notebooks.timings(_executed([("code", 'helpers.check("challenge", "Task 3")', CHECK_BUDGET_S + 2),
                                        ("code", 'helpers.check("challenge")', CHECK_BUDGET_S + 5),
                                        ("code", 'helpers.check("challenge", "Task 1")', 0.5)]),
                             "04_challenge_x.ipynb", seconds=100.0)
    run = _run("avx2", notebooks=[slow])
    assert [c.call for c in report.over_budget(run)] == ['helpers.check("challenge")',
                                                         'helpers.check("challenge", "Task 3")']
    assert (f'SLOW: check() cells over the {CHECK_BUDGET_S:.0f} s budget: helpers.check("challenge") '
            f'{CHECK_BUDGET_S + 5:.1f} s') in report.summary(run)
    fast = notebooks.timings(_executed([("code", 'helpers.check("demo")', 0.5)]), "02_demo_x.ipynb", seconds=9.0)
    assert report.over_budget(_run("avx2", notebooks=[fast])) == [] and "SLOW" not in report.summary(
        _run("avx2", notebooks=[fast]))


def test_a_bench_file_written_before_the_flag_still_reads():
    old = report.CheckTime.model_validate({"part": "demo", "task": "(all)", "seconds": 0.1})
    assert old.over_budget is False


@pytest.mark.parametrize(("seconds", "status"), [(CHECK_BUDGET_S + 1, 1), (0.5, 0)])
def test_make_bench_exits_1_when_a_measured_check_cell_is_over_the_budget(monkeypatch, capsys, seconds, status):
    cells = _executed([("code", 'helpers.check("exercise", "Task 2")', seconds)])
    facts = _run("native").machine
    monkeypatch.setattr(machine, "describe", lambda kind: facts)
    monkeypatch.setattr(bench_main, "_notebooks",
                        lambda solutions, kind: [notebooks.timings(cells, "03_exercise_x.ipynb", seconds=30.0)])
    monkeypatch.setattr(report, "merge_run", lambda run, path=None: report.BenchFile(runs={run.machine.kind: run}))
    monkeypatch.setattr("checks.bench.plot.plot", lambda bench, path: path)
    monkeypatch.setattr("helpers.env.apply", lambda: "offline")
    monkeypatch.setattr("helpers.env.quiet_libraries", lambda **kwargs: None)
    for name in machine.STAND_IN_ENV:  # CPU=native refuses to run under the AVX2 stand-in, which CI may set
        monkeypatch.delenv(name, raising=False)
    assert bench_main.main(["--only", "notebooks"]) == status
    assert ("check() cell(s) over the" in capsys.readouterr().out) is bool(status)
