"""Each autograder check is shown to fail, alone and with its teaching message, on a wrong answer.

``checks/wrong_variants/<part>/<mistake>.py`` re-defines one answer of the solution with a
common mistake and names the check that must catch it::

    CHECK = "the tokenizer pads on the left"     # the one check that fails
    MESSAGE = "padding_side is 'right'"          # part of its message

A check that cannot run because another criterion fails (a function that returns ids instead
of text cannot be compared with the reference text) says so with the pointer
``(see the check '<name>')``; such pointers to the intended check are the only other
failures a variant may cause.

The solution notebook runs once per part; every variant then runs on top of it in the
same namespace (restored between variants), followed by all of the part's checks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from helpers.grading import grade_variants, load_part, prerequisite

VARIANTS_DIR = REPO_ROOT / "checks" / "wrong_variants"
PARTS = sorted(p.name for p in VARIANTS_DIR.iterdir() if p.is_dir() and any(p.glob("*.py")))


def _declared(path: Path) -> tuple[str, str]:
    values = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in {"CHECK", "MESSAGE"}:
                values[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(values) == {"CHECK", "MESSAGE"}, f"{path.name} must set CHECK and MESSAGE"
    return values["CHECK"], values["MESSAGE"]


def _variants(part: str) -> list[Path]:
    return sorted((VARIANTS_DIR / part).glob("*.py"))


def _solution(part: str) -> Path:
    prefix = load_part(part).notebook_prefix
    (path,) = (REPO_ROOT / "solutions").glob(f"{prefix}*.ipynb")
    return path


@pytest.fixture(scope="module")
def graded(request):
    cache: dict[str, dict] = {}

    def get(part: str):
        if part not in cache:
            sources = {p.stem: p.read_text() for p in _variants(part)}
            cache[part] = grade_variants(_solution(part), sources, part, timeout=2400)
        return cache[part]

    return get


@pytest.mark.slow
@pytest.mark.parametrize(
    "part, variant", [(part, path.stem) for part in PARTS for path in _variants(part)]
)
def test_exactly_the_intended_check_fails(graded, part, variant):
    check, message = _declared(VARIANTS_DIR / part / f"{variant}.py")
    results = graded(part)[variant]
    failed = {r.name: r.message for r in results if not r.passed}
    assert check in failed, f"{check!r} passed on the wrong variant; failing: {failed}"
    assert message in failed.pop(check), f"the message of {check!r} lacks {message!r}"
    pointer = prerequisite(check)
    others = {name: text for name, text in failed.items() if pointer not in text}
    assert not others, f"other checks failed too, for reasons of their own: {others}"


@pytest.mark.parametrize("part", PARTS)
def test_every_check_has_a_wrong_variant(part):
    declared = {_declared(path)[0] for path in _variants(part)}
    checks = {c.name for c in load_part(part).checks}
    assert declared <= checks, f"variants name checks that do not exist: {declared - checks}"
    assert checks <= declared, f"checks never shown to fail on a wrong answer: {checks - declared}"
