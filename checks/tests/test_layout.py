"""The layout: every import points down. ``helpers`` imports nothing of ``checks`` but its one documented re-export,
and no module imports another that imports it back (read from the source, function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT

RE_EXPORT = ("helpers", "checks")
"""The one upward import: ``helpers.check``/``helpers.catch_up`` re-export ``checks.check``/``checks.catch_up``."""


def _modules() -> dict[str, Path]:
    """``{dotted name: file}`` of every module of ``helpers`` and ``checks`` (tests, wrong variants and the
    challenge's ``evaluate`` metric, which is loaded as a metric, left out)."""
    modules = {}
    for path in sorted([*REPO_ROOT.glob("helpers/**/*.py"), *REPO_ROOT.glob("checks/**/*.py")]):
        relative = path.relative_to(REPO_ROOT)
        if relative.parts[:2] == ("checks", "tests") or "metrics" in relative.parts:
            continue
        name = ".".join(relative.with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: the modules of ``modules`` it imports}``; ``from package import module`` counts as the module."""
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t for t in submodules if t in modules] or [node.module]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (a package importing its own submodules is not one)."""
    edges = {a: {b for b in bs if not b.startswith(a + ".")} for a, bs in graph.items()}
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node):], node])
            return
        if node in done:
            return
        for target in sorted(edges.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for start in sorted(edges):
        visit(start, [])
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return imports(_modules())


def test_helpers_import_nothing_of_checks_but_the_re_export(graph):
    upward = sorted((a, b) for a, targets in graph.items() for b in targets
                    if a.split(".")[0] == "helpers" and b.split(".")[0] == "checks")
    assert upward == [RE_EXPORT]


def test_no_module_imports_one_that_imports_it_back(graph):
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "p": {"p.x"}, "p.x": set()}) == [["a", "b", "c", "a"]]


def test_the_course_table_imports_nothing_of_the_workshop(graph):
    assert graph["checks.course"] == set()
