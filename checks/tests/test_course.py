"""The course table: one row per notebook, each with its part module, its notebooks and its wrong variants."""

import importlib

import pytest

from checks import course
from helpers.paths import NOTEBOOKS_DIR, SOLUTIONS_DIR


def test_phases_fill_the_two_and_a_half_hours():
    assert sum(n.box_s for n in course.NOTEBOOKS) == 150 * 60


@pytest.mark.parametrize(("name", "phase"), [("01_concept_x.ipynb", "Concept"),
                                             ("solutions/04_challenge.ipynb", "LoRA Challenge")])
def test_notebook_of(name, phase):
    assert course.notebook_of(name).phase == phase


def test_notebook_of_unknown_prefix():
    with pytest.raises(ValueError, match="should start with one of 01_concept"):
        course.notebook_of("demo.ipynb")


def test_unknown_part_lists_the_parts():
    with pytest.raises(ValueError, match=r"Available: \['concept', 'demo'"):
        course.notebook("nope")


@pytest.mark.parametrize("row", course.NOTEBOOKS, ids=lambda r: r.part)
def test_every_row_has_its_part_and_notebooks(row):
    """A row is all a notebook needs besides its files: the part module defines its checks, one notebook matches."""
    module = importlib.import_module(f"checks.parts.{row.part}")
    assert module.part.name == row.part
    for folder in (SOLUTIONS_DIR, NOTEBOOKS_DIR):
        assert len(sorted(folder.glob(f"{row.prefix}*.ipynb"))) == 1, (folder, row.prefix)


def test_questions_name_parts_of_the_table():
    assert {part for q in course.QUESTIONS for part, _ in q.checks} <= set(course.parts())
