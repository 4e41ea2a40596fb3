"""Each autograder check is shown to fail, alone and with its teaching message, on a wrong answer.

``checks/tests/wrong_variants/<part>/<mistake>.py`` re-defines one answer of the solution with a
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
import re
import tempfile
from pathlib import Path

import pytest

from checks.grader import load_part, prerequisite
from checks.tests.conftest import GRADING_TIMEOUT_S, VARIANT_PARTS, VARIANTS_DIR, variant_files


def _declared(path: Path) -> tuple[str, str]:
    values = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in {"CHECK", "MESSAGE"}:
                values[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(values) == {"CHECK", "MESSAGE"}, f"{path.name} must set CHECK and MESSAGE"
    return values["CHECK"], values["MESSAGE"]


@pytest.mark.slow
@pytest.mark.timeout(GRADING_TIMEOUT_S)
@pytest.mark.parametrize(
    "part, variant", [(part, path.stem) for part in VARIANT_PARTS for path in variant_files(part)]
)
def test_exactly_the_intended_check_fails(graded_variants, part, variant):
    check, message = _declared(VARIANTS_DIR / part / f"{variant}.py")
    results = graded_variants(part)[variant]
    failed = {r.name: r.message for r in results if not r.passed}
    assert check in failed, f"{check!r} passed on the wrong variant; failing: {failed}"
    assert message in failed.pop(check), f"the message of {check!r} lacks {message!r}"
    pointer = prerequisite(check)
    others = {name: text for name, text in failed.items() if pointer not in text}
    assert not others, f"other checks failed too, for reasons of their own: {others}"


@pytest.mark.parametrize("part", VARIANT_PARTS)
def test_every_check_has_a_wrong_variant(part):
    declared = {_declared(path)[0] for path in variant_files(part)}
    checks = {c.name for c in load_part(part).checks}
    assert declared <= checks, f"variants name checks that do not exist: {declared - checks}"
    assert checks <= declared, f"checks never shown to fail on a wrong answer: {checks - declared}"


@pytest.mark.slow
@pytest.mark.timeout(GRADING_TIMEOUT_S)
@pytest.mark.parametrize("part", VARIANT_PARTS)
def test_the_variants_leave_nothing_in_the_temp_folder(graded_variants, part):
    graded_variants(part)
    prefixes = {m for path in variant_files(part) for m in re.findall(r'mkdtemp\(prefix="([^"]+)"\)', path.read_text())}
    left = [p.name for prefix in sorted(prefixes) for p in Path(tempfile.gettempdir()).glob(f"{prefix}*")]
    assert not left, f"grading the variants left {left} in {tempfile.gettempdir()}"
