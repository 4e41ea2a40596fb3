"""Optional tasks are scored apart from the core, a stuck learner can catch up, and hints grow on repeated failures."""

from __future__ import annotations

import dataclasses
import json

import pytest

from checks import grader
from checks.grader import expect, run_checks
from checks.grader.registry import CAUGHT_UP, Part, catch_up
from checks.grader.report import BONUS_HEADING, format_results, results_html
from checks.grader.runner import _results
from checks.grader.schema import CheckResult, GradeBook, GradeReport, Score, is_optional, read_report, write_report
from checks.grader.worker import Outcome


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
    entry = GradeReport(notebook="toy.ipynb", part="toy", results=run_checks(toy, {"x": 1, "y": 2, "z": 3}))
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


def _result(name: str, task: str, passed: bool, points: int = 1, **more) -> CheckResult:
    return CheckResult(name=name, task=task, passed=passed, message="ok" if passed else "no", hint="h", points=points,
                       **more)


def test_a_reports_scores_are_the_points_of_its_results_and_a_book_adds_up_its_notebooks():
    demo = GradeReport(part="demo", results=[_result("a", "Task 1", True, 2), _result("b", "Task 2", False, 3),
                                             _result("c", "Bonus A: c", True, 4), _result("d", "Bonus B: d", False)])
    assert (demo.score, demo.total, demo.bonus_score, demo.bonus_total) == (2, 5, 4, 5)
    assert demo.points == Score.of(demo.results) == Score(core=2, core_total=5, bonus=4, bonus_total=5)
    caught = _result("e", "Task 1", False, 7, ran=False, caught_up=True)
    exercise = GradeReport(part="exercise", results=[caught, _result("f", "Task 2", True, 1)])
    assert (exercise.score, exercise.total) == (1, 8), "a caught-up check counts in the total, earns nothing"
    book = GradeBook.of([exercise, demo])
    assert [n.part for n in book.notebooks] == ["demo", "exercise"]
    assert (book.score, book.total, book.bonus_score, book.bonus_total) == (3, 13, 4, 5)
    assert book.points == Score.of([*demo.results, *exercise.results])


def test_a_report_file_round_trips_through_the_schema_with_its_scores_written(tmp_path):
    results = [_result("a", "Task 1", True, 2, seconds=0.25), _result("b", "Bonus A: b", False, stopped=True),
               _result("c", "Task 2", False, ran=False)]
    report = GradeReport(notebook="notebooks/02_demo.ipynb", part="demo", results=results, seconds=3.5,
                         cell_errors=[{"cell": 2, "error": "ZeroDivisionError: division by zero"}],
                         problem="Code cell 3 was stopped", graded_at="2026-12-06 10:00:00")
    path = write_report(GradeBook.of([report]), tmp_path / "grades" / "report.json")
    data = json.loads(path.read_text())
    assert (data["score"], data["total"], data["bonus_score"], data["bonus_total"]) == (2, 3, 0, 1)
    entry = data["notebooks"][0]
    assert (entry["score"], entry["total"]) == (2, 3)
    assert [(r["optional"], r["stopped"]) for r in entry["results"]] == [(False, False), (True, True), (False, False)]
    again = read_report(path)
    assert again == GradeBook.of([report]) and again.notebooks[0] == report


def test_scores_and_optional_in_a_file_are_recomputed_not_believed(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"score": 99, "total": 99, "notebooks": [{
        "part": "demo", "score": 50, "total": 50, "bonus_score": 9, "bonus_total": 9, "results": [
            {"name": "a", "task": "Task 1", "passed": False, "points": 3, "optional": True},
            {"name": "b", "task": "Bonus A: b", "passed": True, "points": 2, "optional": False}]}]}))
    book = read_report(path)
    (demo,) = book.notebooks
    assert [r.optional for r in demo.results] == [False, True]
    assert (demo.score, demo.total, demo.bonus_score, demo.bonus_total) == (0, 3, 2, 2)
    assert (book.score, book.total) == (0, 3)


def test_a_report_written_by_the_previous_grader_still_reads(tmp_path):
    """The report.json the grader wrote before the one schema: computed keys in the file, no ``stopped``."""
    old = {"score": 1, "total": 2, "bonus_score": 0, "bonus_total": 1, "about": "A self-assessment.", "notebooks": [
        {"notebook": "notebooks/02_demo_loading_and_using_models.ipynb", "part": "demo", "score": 1, "total": 2,
         "bonus_score": 0, "bonus_total": 1, "seconds": 12.3, "problem": "", "graded_at": "2026-12-01 09:00:00",
         "cell_errors": [{"cell": 4, "error": "NameError: name 'x' is not defined"}],
         "results": [
             {"name": "a", "task": "Task 1", "passed": True, "message": "ok", "hint": "h", "points": 1,
              "seconds": 0.1, "ran": True, "caught_up": False, "optional": False},
             {"name": "b", "task": "Task 2", "passed": False, "message": "no", "hint": "h", "points": 1,
              "seconds": 0.0, "ran": False, "caught_up": True, "optional": False},
             {"name": "c", "task": "Bonus A: c", "passed": False, "message": "no", "hint": "h", "points": 1,
              "seconds": 0.2, "ran": True, "caught_up": False, "optional": True}]}]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(old))
    book = read_report(path)
    (demo,) = book.notebooks
    assert (book.score, book.total, book.bonus_score, book.bonus_total) == (1, 2, 0, 1)
    assert demo.graded_at == "2026-12-01 09:00:00" and demo.cell_errors[0]["cell"] == 4
    assert [(r.caught_up, r.stopped, r.optional) for r in demo.results] == [
        (False, False, False), (True, False, False), (False, False, True)]


def test_a_stopped_check_is_told_by_its_field_not_by_its_message(toy):
    """The worker marks a check a time limit stopped; the runner then adds no pointer to the cut notebook."""
    note = "the notebook did not run to its end: code cell 2 (`loop()`) was stopped"
    outcomes = {
        "x is 1": Outcome(passed=False, message="the check was stopped after 8 s: f() did not finish", stopped=True),
        "y uses x": Outcome(passed=False, message="y was stopped after 3 tries"),  # the learner's own words
        "z is optional": Outcome(passed=False, message="Your code raised TimeoutError: g() did not finish within 8 s "
                                                       "when grading called it before", stopped=True)}
    by_name = {r.name: r for r in _results(toy, outcomes, {}, note)}
    assert by_name["x is 1"].stopped and by_name["x is 1"].message == outcomes["x is 1"].message
    assert by_name["z is optional"].stopped and by_name["z is optional"].message == outcomes["z is optional"].message
    assert not by_name["y uses x"].stopped
    assert by_name["y uses x"].message == f"y was stopped after 3 tries ({note}: see the problem above.)"


def test_the_worker_marks_a_check_stopped_at_its_limit_and_one_that_calls_a_stopped_function():
    from checks.grader.worker import run_limited

    part = Part("loops")

    @part.check("loops forever", task="Task 1", hint="h")
    def _loops(ns):
        ns["spin"]()

    @part.check("calls it again", task="Task 1", hint="h")
    def _again(ns):
        ns["spin"]()

    @part.check("says stopped but fails normally", task="Task 2", hint="h")
    def _words(ns):
        expect(False, "the loop was stopped after 2 s and did not finish within 2 s")

    @part.check("passes", task="Task 2", hint="h")
    def _passes(ns):
        pass

    source = "def spin():\n    while True:\n        pass\n"
    ns: dict = {}
    exec(compile(source, "<cell>", "exec"), ns)  # a notebook function: its globals are the namespace
    outcomes, not_run = run_limited(part.checks, ns, check_s=1, checks_s=30)
    assert not not_run
    looped, again = outcomes["loops forever"], outcomes["calls it again"]
    assert looped.stopped and looped.message.startswith("the check was stopped after 1 s: spin() did not finish")
    assert again.stopped and "spin() did not finish within 1 s when grading called it before" in again.message
    assert not outcomes["says stopped but fails normally"].stopped and not outcomes["passes"].stopped
