"""make student: learner notebooks are generated from the solutions and stay in sync."""

from __future__ import annotations

import nbformat
import pytest

from checks.authoring.student import MD_STUB, SolutionMarkerError, to_student, write_students
from helpers.paths import REPO_ROOT


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_notebooks_folder_matches_make_student(tmp_path):
    written = write_students(REPO_ROOT / "solutions", tmp_path)
    assert written, "no solution notebooks found"
    expected = {p.name for p in written}
    actual = {p.name for p in (REPO_ROOT / "notebooks").iterdir() if p.suffix in (".ipynb", ".py")}
    assert actual == expected, "notebooks/ and solutions/ hold different files: run `make student`"
    for path in written:
        drift = (REPO_ROOT / "notebooks" / path.name).read_text() != path.read_text()
        assert not drift, f"notebooks/{path.name} drifted from solutions/: run `make student`"


def test_solution_is_replaced_by_a_stub_naming_the_task():
    code = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\nprint('kept')")
    code.outputs = [nbformat.v4.new_output("stream", text="4")]
    code.execution_count = 3
    out = to_student(_nb(nbformat.v4.new_markdown_cell("### Task 2: doubling"), code))
    cell = out.cells[1]
    assert "return 2 * x" not in cell.source and "print('kept')" in cell.source
    assert '    raise NotImplementedError("Task 2: doubling: write your code here' in cell.source
    assert cell.outputs == [] and cell.execution_count is None
    compile(cell.source, "stub", "exec")


def test_markdown_answers_are_removed():
    md = nbformat.v4.new_markdown_cell("Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->")
    assert to_student(_nb(md)).cells[0].source == f"Why?\n{MD_STUB}"


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_are_an_error(source):
    with pytest.raises(SolutionMarkerError, match="cell 1"):
        to_student(_nb(nbformat.v4.new_code_cell(source)), "nb.ipynb")


def test_no_solution_leaks_into_learner_notebooks():
    for path in (REPO_ROOT / "notebooks").glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and '"outputs": []' in text


def test_starter_script_keeps_what_is_given_and_stubs_the_answer():
    from checks.authoring.student import student_script

    source = "import sys\n\ndef f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\nprint(f(1))\n"
    out = student_script(source, "answer.py")
    assert "return 2 * x" not in out and "BEGIN SOLUTION" not in out
    assert 'raise NotImplementedError("answer.py: write your code here' in out
    assert out.startswith("import sys") and "print(f(1))" in out
    compile(out, "answer.py", "exec")


def test_resetting_keeps_a_learners_work(tmp_path):
    solutions, notebooks, backups = tmp_path / "solutions", tmp_path / "notebooks", tmp_path / "backups"
    solutions.mkdir()
    nbformat.write(_nb(nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION")),
                   solutions / "03_exercise_x.ipynb")
    write_students(solutions, notebooks, backups)
    write_students(solutions, notebooks, backups)
    assert not backups.exists(), "an untouched learner notebook needs no backup"

    worked = nbformat.read(notebooks / "03_exercise_x.ipynb", as_version=4)
    worked.cells[0].source = "x = 1\ny = 'my answer'"
    nbformat.write(worked, notebooks / "03_exercise_x.ipynb")
    write_students(solutions, notebooks, backups)
    (saved,) = backups.glob("03_exercise_x.*.ipynb")
    assert "my answer" in saved.read_text()
    assert "my answer" not in (notebooks / "03_exercise_x.ipynb").read_text()
