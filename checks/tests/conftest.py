"""Shared fixtures of the workshop's test suite."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from checks import course
from helpers.paths import REPO_ROOT

VARIANTS_DIR = Path(__file__).parent / "wrong_variants"
VARIANT_PARTS = course.parts()
"""Every part of the course table: each must have wrong variants (``wrong_variants/<part>/*.py``), one per check (a
part without a folder fails ``test_every_check_has_a_wrong_variant`` instead of being left out)."""
GRADING_TIMEOUT_S = 3600
"""Seconds for one run of a solution and all its variants (the challenge trains three times: about
25 minutes on a 2-core AVX2 CPU). The tests that may start that run carry a pytest timeout to match;
the default one (pyproject.toml) is 1800 s."""


RUNS_AFTER = {"reflection": ("challenge",)}
"""Parts whose solution reads what another part's solution writes: the Reflection shares the challenge's adapter and
results.json on the Hub, so the challenge's solution runs first (whatever order pytest picks)."""


def variant_files(part: str) -> list[Path]:
    """The wrong-variant files of ``part``, sorted by name."""
    return sorted((VARIANTS_DIR / part).glob("*.py"))


def part_notebook(folder: str, part: str) -> Path:
    """The one notebook of ``part`` in ``folder`` (``"solutions"`` or ``"notebooks"``)."""
    prefix = course.notebook(part).prefix
    matches = sorted((REPO_ROOT / folder).glob(f"{prefix}*.ipynb"))
    assert len(matches) == 1, f"expected one {folder}/{prefix}*.ipynb, found {matches}"
    return matches[0]


@pytest.fixture(scope="session")
def graded_variants():
    """``get(part)``: every wrong variant's results and, under ``SOLUTION_KEY``, the solution's own.

    One run of the solution notebook per part serves the solution self-test
    (test_autograders.py) and every wrong variant (test_wrong_variants.py): the challenge
    solution trains for minutes, so it is not run twice.
    """
    from checks.grader import grade_variants

    cache: dict[str, dict | RuntimeError] = {}

    def get(part: str) -> dict:
        for earlier in RUNS_AFTER.get(part, ()):  # its solution reads what the earlier one wrote
            get(earlier)
        if part not in cache:
            sources = {path.stem: path.read_text() for path in variant_files(part)}
            try:
                cache[part] = grade_variants(part_notebook("solutions", part), sources, part,
                                             timeout=GRADING_TIMEOUT_S)
            except RuntimeError as err:  # every later test of the part fails at once, without another run
                cache[part] = err
        if isinstance(cache[part], RuntimeError):
            raise cache[part]
        return cache[part]

    return get


@pytest.fixture(scope="session")
def tokenizer():
    """SmolLM2's tokenizer, as the workshop's offline copy ships it (pad = EOS = <|im_end|>, right padding)."""
    from transformers import AutoTokenizer

    from helpers.models import CHAT_MODEL_ID

    return AutoTokenizer.from_pretrained(CHAT_MODEL_ID)


@pytest.fixture(scope="session")
def rows():
    """The first six training tickets, as dicts."""
    from helpers.challenge.task import load_splits

    return [dict(r) for r in load_splits(("train",))["train"].select(range(6))]


@pytest.fixture
def make_notebook(tmp_path):
    """Write a notebook whose code cells are the given sources; return its path."""

    def make(*sources: str, name: str = "02_demo_test.ipynb") -> Path:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
        path = tmp_path / name
        nbformat.write(nb, path)
        return path

    return make
