"""The workshop's grading and course tooling: one importable package, folder name = import name.

Layout (every import points down: ``checks`` imports ``helpers``, never the other way but the one re-export below)::

    course.py          the course table: one row per notebook (part, file prefix, phase, time box, solution times)
                       and the self-assessment questions
    self_assessment.py the Reflection's answers to those questions, from the grade report
    grader/            the engine: registry (how a check is declared), runner and worker (grading a notebook file
                       in child processes), limits, tamper evidence, exports, the report's schema and rendering
    parts/             one module of check definitions per notebook (concept, demo, exercise, challenge,
                       reflection), their tooling in modules beside them
    reference/         the reference solution the challenge's checks compare against
    authoring/         the Makefile's tools (make run, student, doctor, resolve) and the Colab launch cells
    bench/             make bench and make gpu-check
    tests/             pytest files, wrong_variants/ (one wrong answer per check), the nbval plugins

Notebooks call the grader through one entry, :func:`check` (and :func:`catch_up`), which ``helpers.check`` and
``helpers.catch_up`` re-export so that a notebook needs only ``import helpers``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["catch_up", "check"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `import checks` (and `checks.course`) stays light.
    if name in __all__:
        from checks import grader

        return getattr(grader, name)
    raise AttributeError(f"module 'checks' has no attribute {name!r}")
