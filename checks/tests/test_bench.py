"""make bench: what it reads from executed notebooks, the file it merges into, the CPU kinds it refuses, the plot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from checks.bench import machine, notebooks, report
from checks.bench.plot import plot


def _executed(cells: list[tuple[str, str, float | None]]):
    """A notebook whose code cells carry nbclient's execution timestamps; ``seconds=None``: the cell never ran."""
    nb = nbformat.v4.new_notebook()
    for kind, source, seconds in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        cell = nbformat.v4.new_code_cell(source)
        if seconds is not None:
            cell.metadata["execution"] = {"iopub.execute_input": "2026-12-02T10:00:00.000000Z",
                                          "shell.execute_reply": f"2026-12-02T10:{int(seconds // 60):02d}:"
                                                                 f"{seconds % 60:09.6f}Z"}
        nb.cells.append(cell)
    return nb


def test_timings_read_cells_checks_and_the_core_path():
    nb = _executed([
        ("code", "import helpers", 2.0),
        ("code", "trainer.train()", 95.5),
        ("code", 'helpers.check("challenge", "Task 4")', 0.25),
        ("markdown", "## Bonus A: QLoRA", None),
        ("code", "qlora_trainer.train()", 70.0),
        ("code", 'helpers.check("challenge", "Bonus: QLoRA")', 6.0),
        ("code", "never_ran()", None),
    ])
    run = notebooks.timings(nb, "04_challenge_lora_finetuning.ipynb", seconds=180.0)
    assert run.cells_seconds == 173.8 and run.core_seconds == 97.8 and run.target_s == 360
    assert [c.source for c in run.slowest_cells[:2]] == ["trainer.train()", "qlora_trainer.train()"]
    assert [(c.task, c.seconds) for c in run.checks] == [("Task 4", 0.25), ("Bonus: QLoRA", 6.0)]
    no_bonus = notebooks.timings(_executed([("code", "x = 1", 1.0)]), "01_concept_x.ipynb", seconds=5.0)
    assert no_bonus.core_seconds is None and no_bonus.checks == []


@pytest.mark.parametrize(("source", "call"), [
    ('helpers.check("exercise", "Task 5")', ("exercise", "Task 5")),
    ("helpers.check('demo', 'Part 2')\n", ("demo", "Part 2")),
    ('helpers.check("demo")', ("demo", "(all)")),
    ('helpers.check("demo", task="Part 2")', None),
    ('x = helpers.check("demo", "Part 2")', None),
    ('helpers.check("demo", TASK)', None),
    ("helpers.check(", None),
])
def test_check_cells_are_recognised_by_their_call(source, call):
    assert notebooks.check_call(source) == call


def _run(kind: str, **sections) -> report.BenchRun:
    facts = machine.Machine(cpu="AMD EPYC", kind=kind, torch_capability="AVX2", mixed_precision="no", threads=2,
                            date="2026-12-02T10:00:00+00:00", torch="2.13.0", transformers="5.23.0")
    return report.BenchRun(machine=facts, **sections)


def test_a_run_replaces_its_cpu_kind_and_keeps_the_sections_it_did_not_measure(tmp_path):
    path = tmp_path / "bench.json"
    grades = [report.GradeRun(part="demo", notebook="02_demo.ipynb", seconds=30.0, score=3, total=3, returncode=0)]
    report.merge_run(_run("avx2", grading=grades), path)
    report.merge_run(_run("native"), path)
    bench = report.merge_run(_run("avx2", seconds=12.0), path)  # measured nothing but its own wall time
    assert set(bench.runs) == {"avx2", "native"} and bench.runs["avx2"].grading == grades
    assert report.read_bench(path) == bench and bench.runs["avx2"].seconds == 12.0
    path.write_text("{not json")
    assert report.read_bench(path).runs == {}


def test_the_cpu_kind_must_match_the_environment(monkeypatch):
    for name in machine.STAND_IN_ENV:
        monkeypatch.delenv(name, raising=False)
    machine.check_kind("native")
    with pytest.raises(ValueError, match="make bench CPU=avx2"):
        machine.check_kind("avx2")
    with pytest.raises(ValueError, match="use one of"):
        machine.check_kind("avx512")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    with pytest.raises(ValueError, match="ATEN_CPU_CAPABILITY is set"):
        machine.check_kind("native")
    for name, value in machine.STAND_IN_ENV.items():
        monkeypatch.setenv(name, value)
    machine.check_kind("avx2")


def test_the_plot_draws_whatever_sections_exist(tmp_path):
    nb = _executed([("code", 'helpers.check("demo", "Part 1")', 0.5)])
    runs = {"native": _run("native", notebooks=[notebooks.timings(nb, "02_demo_x.ipynb", seconds=20.0)]),
            "avx2": _run("avx2")}
    path = plot(report.BenchFile(runs=runs), tmp_path / "bench.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_summary_names_the_headline_figures():
    nb = _executed([("code", "trainer.train()", 90.0), ("markdown", "## Bonus A", None),
                    ("code", 'helpers.check("challenge", "Bonus: QLoRA")', 6.5)])
    run = _run("avx2", notebooks=[notebooks.timings(nb, "04_challenge_x.ipynb", seconds=100.0)],
               grading=[report.GradeRun(part="challenge", notebook="04.ipynb", seconds=300.0, score=25, total=25,
                                        returncode=0)])
    text = report.summary(run)
    assert "make run: 1.6 min, with BONUS=1 1.7 min" in text and "core path (before the bonuses): 90 s" in text
    assert "slowest check(part, task) cell: 6.5 s (challenge Bonus: QLoRA)" in text
    assert "challenge 300 s (25/25)" in text


def test_make_run_skips_the_bonus_sections_unless_asked():
    from checks.authoring.run_notebooks import SKIP_TAG, run_notebook, skip_bonus

    nb = _executed([("code", "core()", 1.0), ("markdown", "## Bonus A: QLoRA", None), ("code", "bonus()", 5.0),
                    ("markdown", "## Bonus B: full", None), ("code", "full()", 5.0),
                    ("markdown", "## Key takeaways", None), ("code", "after()", None)])
    nb.cells[2].outputs = [{"output_type": "stream", "name": "stdout", "text": "LoRA 73 %"}]
    assert skip_bonus(nb) == 2
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [SKIP_TAG in c.metadata.get("tags", []) for c in code] == [False, True, True, False]
    assert code[1].outputs == [] and "execution" not in code[1].metadata  # no older run's numbers in the copy
    with pytest.raises(ValueError, match="store=True needs bonus=True"):
        run_notebook(Path("solutions/04_x.ipynb"), Path("build"), store=True, bonus=False)
