"""Phase table."""

import pytest

from authoring.phases import PHASES, phase_of


def test_phases_fill_the_two_and_a_half_hours():
    assert sum(p.budget_s for p in PHASES) == 150 * 60


@pytest.mark.parametrize(("name", "phase"), [("01_concept_x.ipynb", "Concept"),
                                             ("solutions/04_challenge.ipynb", "LoRA Challenge")])
def test_phase_of(name, phase):
    assert phase_of(name).name == phase


def test_phase_of_unknown_prefix():
    with pytest.raises(ValueError, match="phase prefix"):
        phase_of("demo.ipynb")
