"""Optional tasks are scored apart from the core, a stuck learner can catch up, and hints grow on repeated failures."""

from __future__ import annotations

import dataclasses

import pytest

from checks import grader
from checks.grader import expect, run_checks
from checks.grader.registry import CAUGHT_UP, Part, Score, catch_up, is_optional
from checks.grader.report import BONUS_HEADING, format_results, results_html
from checks.grader.runner import GradeReport, _results
from checks.grader.worker import Outcome
from helpers.grade_report import GradeBook, GradedNotebook


def _part() -> Part:
    part = Part("toy")

    @part.check("x is 1", task="Task 1: x", hint="Set x = 1.", more_hint="The cell under Task 1 says x = ...")
    def _x(ns):
        expect(ns.get("x") == 1, f"x is {ns.get('x')!r}")

    @part.check("y uses x", task="Task 2: y", hint="y = x + 1.")
    def _y(ns):
        expect(ns.get("y") == 2, "y is not 2")

    @part.check("z is optional", task="Bonus A: z", hint="z = 3.")
    def _z(ns):
        expect(ns.get("z") == 3, "z is not 3")

    @part.catch_up("Task 1: x")
    def _working_x():
        return 1

    return part


@pytest.fixture
def toy(monkeypatch):
    part = _part()
    monkeypatch.setattr("checks.grader.registry.load_part", lambda name: part)
    CAUGHT_UP.discard(("toy", "Task 1: x"))
    grader.FAILED_ATTEMPTS.clear()
    yield part
    CAUGHT_UP.discard(("toy", "Task 1: x"))
    grader.FAILED_ATTEMPTS.clear()


def test_a_task_is_optional_exactly_when_its_name_starts_with_bonus():
    assert is_optional("Bonus A: fit_prompt") and is_optional("Bonus: QLoRA")
    assert not is_optional("Task 6: fit_prompt") and not is_optional("Task 1: Bonus points")


def test_a_learner_who_did_the_whole_core_sees_a_clean_core_score(toy):
    results = run_checks(toy, {"x": 1, "y": 2})
    assert Score.of(results) == Score(core=2, core_total=2, bonus=0, bonus_total=1)
    table = format_results(results, "Checks")
    assert "score: core 2/2 · bonus (optional) 0/1" in table
    assert "[----] Bonus A: z: not done yet (optional)" in table and "FAIL" not in table, "skipping is no failure"
    assert table.index("[PASS] y uses x") < table.index(BONUS_HEADING) < table.index("Bonus A: z"), "core first"
    assert BONUS_HEADING in results_html(results, "Checks") and "not done yet" in results_html(results, "Checks")


def test_a_started_bonus_task_shows_each_failing_check(toy):
    toy.checks.append(dataclasses.replace(toy.checks[2], name="z is small", func=lambda ns: None))
    table = format_results(run_checks(toy, {"x": 1, "y": 2, "z": 30}), "Checks")
    assert "[PASS] z is small" in table and "[FAIL] z is optional" in table and "why:  z is not 3" in table


def test_the_grade_report_keeps_core_and_bonus_points_apart(toy):
    report = GradeReport("toy.ipynb", "toy", run_checks(toy, {"x": 1, "y": 2, "z": 3}))
    entry = GradedNotebook.model_validate(report.as_dict())
    assert (entry.score, entry.total, entry.bonus_score, entry.bonus_total) == (2, 2, 1, 1)
    book = GradeBook.of([entry, entry.model_copy(update={"part": "other"})])
    assert (book.score, book.total, book.bonus_score, book.bonus_total) == (4, 4, 2, 2)
    assert [r.optional for r in entry.results] == [False, False, True]


def test_catch_up_returns_a_working_result_and_the_task_scores_no_points(toy, capsys):
    x = catch_up("toy", "task 1")
    assert x == 1 and "Caught up on 'Task 1: x'" in capsys.readouterr().out
    results = run_checks(toy, {"x": None, "y": x + 1})
    by_name = {r.name: r for r in results}
    assert by_name["x is 1"].caught_up and not by_name["x is 1"].passed and not by_name["x is 1"].ran
    assert by_name["y uses x"].passed, "the later task is graded as usual"
    assert Score.of(results).core == 1
    assert "[ UP ] x is 1  (caught up: no points)" in format_results(results)


def test_catch_up_for_a_task_without_one_is_a_clear_error(toy):
    with pytest.raises(ValueError, match=r"no catch-up for 'Task 2'.*It offers: \['Task 1: x'\]"):
        catch_up("toy", "Task 2")


def test_make_grade_scores_the_tasks_the_notebook_caught_up_on(toy):
    outcomes = {"x is 1": Outcome(passed=False, message="x is None"), "y uses x": Outcome(passed=True, message="ok"),
                "z is optional": Outcome(passed=True, message="ok")}
    results = _results(toy, outcomes, {}, "", caught_up={"Task 1: x"})
    assert [(r.name, r.caught_up, r.passed) for r in results] == [
        ("x is 1", True, False), ("y uses x", False, True), ("z is optional", False, True)]
    assert Score.of(results) == Score(core=1, core_total=2, bonus=1, bonus_total=1)


def test_hints_grow_more_specific_then_point_to_the_catch_up(toy):
    hints = []
    for _ in range(3):
        (result,) = grader.escalate_hints(toy, run_checks(toy, {"x": 0}, "Task 1"))
        hints.append(result.hint)
    assert hints[0] == "Set x = 1."
    assert hints[1] == "Set x = 1. The cell under Task 1 says x = ..."
    assert hints[2].startswith(hints[1]) and "catch-up cell" in hints[2]
    (other,) = grader.escalate_hints(toy, run_checks(toy, {"y": 0}, "Task 2"))
    assert other.hint == "y = x + 1.", "attempts are counted per task"
    (passed,) = grader.escalate_hints(toy, run_checks(toy, {"x": 1}, "Task 1"))
    assert passed.passed and passed.hint == "Set x = 1."
