"""Self-assessment answers from a grade report: ticked, not yet, not graded, and unusable reports."""

from __future__ import annotations

import json

import pytest

from checks import self_assessment as sa
from checks.course import QUESTIONS
from checks.grader import load_part
from checks.grader.schema import ReportError
from helpers.paths import shown_path

Q_AUTO, Q_GENERATION, Q_QUANT, Q_LORA, Q_HUB = (q.text for q in QUESTIONS)
CONCEPT_TASKS = ("Self-check 1: pick the Auto class", "Self-check 2: count tokens", "Self-check 3: weight memory",
                 "Self-check 4: LoRA parameters")


def result(task: str, passed: bool, name: str | None = None) -> dict:
    return {"name": name or f"check of {task}", "task": task, "passed": passed, "message": "ok" if passed else "no",
            "hint": "h", "points": 1, "seconds": 0.0, "optional": task.startswith("Bonus")}


def write_report(tmp_path, *notebooks: tuple[str, list[dict]]):
    entries = [{"notebook": f"notebooks/{part}.ipynb", "part": part, "score": sum(r["passed"] for r in results),
                "total": len(results), "seconds": 1.0, "problem": "", "cell_errors": [], "results": results}
               for part, results in notebooks]
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"score": 0, "total": 0, "notebooks": entries}))
    return path


def by_question(assessment: sa.SelfAssessment) -> dict[str, sa.Answer]:
    return {a.question: a for a in assessment.answers}


def test_the_five_questions_verbatim_and_in_order():
    assert [q.text for q in QUESTIONS] == [
        "Can I load models using Auto classes?",
        "Do I understand how to configure generation parameters?",
        "Can I implement quantization for efficient inference?",
        "Do I know how to fine-tune models with LoRA?",
        "Can I push models to Hugging Face Hub?",
    ]


def test_no_report_file_means_nothing_graded_and_says_run_make_grade(tmp_path):
    assessment = sa.self_assess(tmp_path / "missing.json")
    assert [a.status for a in assessment.answers] == ["not graded"] * 5
    assert "No grade report yet" in assessment.note and "make grade" in assessment.note
    assert all("make grade" in a.advice and a.total == 0 for a in assessment.answers)
    assert {row["answer"] for row in assessment.rows()} == {"–"}


def test_read_report_returns_none_without_a_file(tmp_path):
    assert sa.read_checks(tmp_path / "missing.json") is None


@pytest.mark.parametrize("content", [b'{"score": 3, "notebooks": [', b"", b"\xff\xfe not text"])
def test_corrupt_report_gives_a_clear_message_not_a_traceback(tmp_path, content):
    path = tmp_path / "report.json"
    path.write_bytes(content)
    with pytest.raises(ReportError, match="make grade"):
        sa.read_checks(path)
    assessment = sa.self_assess(path)  # the notebook's entry point never raises
    assert "report.json" in assessment.note and "make grade" in assessment.note
    assert "Traceback" not in assessment.note
    assert [a.status for a in assessment.answers] == ["not graded"] * 5


@pytest.mark.parametrize("report", [
    [1, 2, 3],
    {"score": 1},
    {"notebooks": [{"part": "exercise"}]},
    {"notebooks": [{"part": "exercise", "results": [{"task": "Task 1: load_generator", "name": "x"}]}]},
    {"notebooks": [{"part": "exercise", "results": [{"task": "Task 1: x", "name": "x", "passed": "yes"}]}]},
])
def test_json_that_is_not_a_grade_report_is_named_as_such(tmp_path, report):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    with pytest.raises(ReportError, match="make grade"):
        sa.read_checks(path)
    assert sa.self_assess(path).answers[0].status == "not graded"


def test_unreadable_path_is_a_report_error(tmp_path):
    folder = tmp_path / "report.json"
    folder.mkdir()  # a directory where the file should be: IsADirectoryError
    with pytest.raises(ReportError, match="could not be read"):
        sa.read_checks(folder)


CORE = (
    ("exercise", [result(f"Task {n}: t{n}", True) for n in range(1, 6)]),
    ("concept", [result(task, True) for task in CONCEPT_TASKS]),
    ("challenge", [result("Task 1: make_lora_config", True), result("Task 2: train with Trainer", True),
                   result("Task 3: save and reload", True)]),
    ("reflection", [result("Task: share on the Hub", True)]),
)


def test_all_passed_ticks_every_question(tmp_path):
    path = write_report(tmp_path, *CORE)
    assessment = sa.self_assess(path)
    assert [a.status for a in assessment.answers] == ["ticked"] * 5
    assert {row["answer"] for row in assessment.rows()} == {"✅"}
    answers = by_question(assessment)
    assert (answers[Q_AUTO].passed, answers[Q_AUTO].total) == (3, 3)  # exercise Task 1 + concept 1, 2
    assert (answers[Q_GENERATION].passed, answers[Q_GENERATION].total) == (1, 1)  # exercise Task 2
    assert answers[Q_QUANT].total == 2  # concept weight memory + exercise Task 5
    assert answers[Q_LORA].total == 4  # challenge tasks 1-3 + concept LoRA parameters
    assert answers[Q_HUB].total == 1
    assert "13/13 core checks passed (optional: 0/0)" in assessment.note


def test_the_core_path_alone_ticks_every_question_and_bonus_results_only_fill_the_at_home_column(tmp_path):
    bonus = [result("Bonus A: fit_prompt", False), result("Bonus B: generation presets", False),
             result("Bonus B: generation presets", True, name="presets validate")]
    challenge_bonus = [result("Bonus A: QLoRA", False), result("Bonus B: LoRA vs full fine-tuning", True)]
    exercise, concept, challenge, reflection = CORE
    path = write_report(tmp_path, ("exercise", exercise[1] + bonus), concept,
                        ("challenge", challenge[1] + challenge_bonus), reflection)
    assessment = sa.self_assess(path)
    assert [a.status for a in assessment.answers] == ["ticked"] * 5, "a skipped or failed bonus never costs a tick"
    answers = by_question(assessment)
    assert (answers[Q_GENERATION].at_home_passed, answers[Q_GENERATION].at_home_total) == (1, 2)
    assert (answers[Q_QUANT].at_home_passed, answers[Q_QUANT].at_home_total) == (0, 1)
    assert (answers[Q_LORA].at_home_passed, answers[Q_LORA].at_home_total) == (1, 1)
    rows = {r["question"]: r for r in assessment.rows()}
    assert rows[Q_GENERATION]["at home (optional)"] == "1/2" and rows[Q_AUTO]["at home (optional)"] == "–"


def test_a_caught_up_core_task_is_not_ticked(tmp_path):
    exercise = [{**result("Task 1: load_generator", False), "caught_up": True, "ran": False},
                result("Task 2: generate_text", True)]
    answers = by_question(sa.self_assess(write_report(tmp_path, ("exercise", exercise))))
    assert answers[Q_AUTO].status == "not yet" and answers[Q_GENERATION].status == "ticked"


def test_some_failed_lists_up_to_three_failing_names_and_where_to_revisit(tmp_path):
    path = write_report(tmp_path, ("exercise", [
        result("Task 1: load_generator", True),
        *[result("Task 2: generate_text", False, name=f"generate_text rule {i}") for i in range(1, 6)],
        result("Bonus B: generation presets", True),
    ]))
    answers = by_question(sa.self_assess(path))
    generation = answers[Q_GENERATION]
    assert generation.status == "not yet" and generation.mark == "❌"
    assert (generation.passed, generation.total) == (0, 5)
    assert (generation.at_home_passed, generation.at_home_total) == (1, 1)
    assert len(generation.failing) == 5
    assert "'generate_text rule 1'" in generation.advice and "'generate_text rule 3'" in generation.advice
    assert "rule 4" not in generation.advice and "(+2 more)" in generation.advice
    assert "03 · Exercise" in generation.advice and "Task 2" in generation.advice
    assert answers[Q_AUTO].status == "not graded"  # exercise Task 1 passed, but the concept is not graded yet


def test_questions_without_graded_checks_in_the_report_are_not_graded(tmp_path):
    path = write_report(tmp_path, ("exercise", [result("Task 1: load_generator", True),
                                                result("Task 2: generate_text", True)]),
                        ("demo", [result("Your turn: mean pooling", False)]))
    assessment = sa.self_assess(path)
    answers = by_question(assessment)
    assert answers[Q_GENERATION].status == "ticked"
    assert answers[Q_AUTO].status == "not graded", "its concept checks are not in the report yet: no tick before"
    assert "(concept not graded)" in answers[Q_AUTO].advice and answers[Q_AUTO].passed == 1
    for question in (Q_QUANT, Q_LORA, Q_HUB):
        assert answers[question].status == "not graded"
        assert "make grade" in answers[question].advice
    assert "04 · LoRA challenge" in answers[Q_LORA].advice and "05 · Reflection" in answers[Q_HUB].advice
    row = {r["question"]: r for r in assessment.rows()}[Q_HUB]
    assert (row["answer"], row["core checks passed"]) == ("–", "–")
    assert "graded parts: demo, exercise" in assessment.note


def test_an_empty_report_is_read_but_grades_nothing(tmp_path):
    path = write_report(tmp_path)
    assert sa.read_checks(path) == []
    assert [a.status for a in sa.self_assess(path).answers] == ["not graded"] * 5


@pytest.mark.parametrize(("part", "task", "question"), [
    ("exercise", "Task 1: load_generator", Q_AUTO),
    ("concept", "Self-check 1: pick the Auto class", Q_AUTO),
    ("concept", "Self-check 2: count TOKENS", Q_AUTO),
    ("exercise", "Bonus B: generation presets", Q_GENERATION),
    ("exercise", "Task 5: quantize and measure", Q_QUANT),
    ("concept", "Self-check 3: weight memory", Q_QUANT),
    ("concept", "Self-check 4: LoRA parameters", Q_LORA),
    ("challenge", "Bonus A: QLoRA", Q_QUANT),
    ("challenge", "Task 2: train with Trainer", Q_LORA),
    ("challenge", "Bonus B: LoRA vs full fine-tuning", Q_LORA),
    ("reflection", "Task: share on the Hub", Q_HUB),
])
def test_rules_match_on_part_and_task_keyword_in_any_case(part, task, question):
    check = sa.GradedCheck(part, task, "n", True)
    assert [q.text for q in QUESTIONS if sa.matches(q, check)] == [question]


@pytest.mark.parametrize("part", ["concept", "exercise", "challenge", "reflection"])
def test_the_real_autograder_tasks_answer_the_expected_questions(part):
    expected = {"concept": {"Self-check 1": Q_AUTO, "Self-check 2": Q_AUTO, "Self-check 3": Q_QUANT,
                            "Self-check 4": Q_LORA},
                "exercise": {"Task 1": Q_AUTO, "Task 2": Q_GENERATION, "Task 5": Q_QUANT,
                             "Bonus B": Q_GENERATION},
                "challenge": {"Task 1": Q_LORA, "Task 2": Q_LORA, "Task 3": Q_LORA, "Bonus A": Q_QUANT,
                              "Bonus B": Q_LORA},
                "reflection": {"Task": Q_HUB}}[part]
    for check in load_part(part).checks:
        graded = sa.GradedCheck(part, check.task, check.name, True)
        found = [q.text for q in QUESTIONS if sa.matches(q, graded)]
        wanted = [q for prefix, q in expected.items() if check.task.startswith(prefix + ":")]
        assert found == wanted, check.task


@pytest.mark.parametrize(("part", "task"), [
    ("demo", "Task 1: load_generator"),       # right task keyword, wrong part
    ("exercise", "Task 4: chat"),             # graded, but no question asks about it
    ("challenge", "Bonus C: inference script"),
    ("exercise", "Bonus A: fit_prompt"),
])
def test_other_checks_answer_no_question(part, task):
    check = sa.GradedCheck(part, task, "n", False)
    assert not any(sa.matches(q, check) for q in QUESTIONS)


def test_challenge_task_rules_do_not_catch_later_task_numbers():
    check = sa.GradedCheck("challenge", "Task 10: extra", "n", False)
    assert not sa.matches(QUESTIONS[3], check)


def test_every_question_points_somewhere_to_revisit():
    assert all(q.checks and "·" in q.revisit for q in QUESTIONS)


def test_paths_inside_the_repository_are_shown_relative():
    assert shown_path(sa.DEFAULT_REPORT) == "build/grades/report.json"
    missing = sa.DEFAULT_REPORT.with_name("no-such-report.json")
    assert "(build/grades/no-such-report.json)" in sa.self_assess(missing).note


def test_optional_comes_from_the_task_name_never_from_the_file(tmp_path):
    """A core result the file claims is optional still answers its question (and a Bonus one claimed core does not)."""
    exercise = [{**result("Task 2: generate_text", False), "optional": True},
                {**result("Bonus B: generation presets", True), "optional": False}]
    checks = sa.read_checks(write_report(tmp_path, ("exercise", exercise)))
    assert [c.optional for c in checks] == [False, True]
    generation = by_question(sa.self_assess(tmp_path / "report.json"))[Q_GENERATION]
    assert generation.status == "not yet" and (generation.at_home_passed, generation.at_home_total) == (1, 1)


def test_importing_the_self_assessment_stays_light():
    """The Reflection's cell imports it: no torch, no Hugging Face library, no grading child's machinery."""
    import subprocess
    import sys

    code = ("import sys, checks.self_assessment; "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'peft', 'IPython') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout
