"""Helpers of the Hugging Face Transformers workshop: what a notebook needs that is not its lesson.

Import this package first in every notebook: it points the Hugging Face libraries at the workshop's offline cache
(``HF_HUB_CACHE``, ``HF_HUB_OFFLINE=1``; not with ``WORKSHOP_MODELS=hub``) before they are imported, so models load
by their Hub ids (see :mod:`helpers.env`)::

    import helpers
    info = helpers.setup()           # device, dtype, mixed precision, seeds (helpers.device), diagnoses (versions)
    helpers.check("demo")            # instant feedback: the grader's check table for this notebook
    helpers.catch_up("exercise", "Task 1")   # stuck? a working result to go on with (that task scores no points)

Modules: ``env`` (offline switch, library noise), ``paths``, ``device``, ``models`` (the model catalog),
``model_cache`` (what ``make models`` runs to fill the offline cache), ``versions`` (pins, drift, one-line
diagnoses), ``colab`` (a Colab session's set-up), ``quantization`` (the Exercise's measurement file), ``memory``,
``processes`` (child processes stopped with everything they started), ``jsonfile`` (schema files on disk) and
``challenge/`` (the LoRA challenge's task, results file, answers, memory probe, Hub status).

``helpers`` is the ground floor: it imports nothing of the grading package ``checks`` except in one place,
``helpers.check`` and ``helpers.catch_up``, a documented re-export of :func:`checks.check` and
:func:`checks.catch_up` (the grader's entry for notebooks), loaded only when a notebook calls them.
"""

from __future__ import annotations

from typing import Any

from helpers import env

MODEL_SOURCE = env.apply()

__all__ = ["MODEL_SOURCE", "catch_up", "check", "format_bytes", "setup"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `import helpers` stays fast and imports no Hugging Face library.
    if name == "setup":
        from helpers.device import setup

        return setup
    if name == "format_bytes":
        from helpers.memory import format_bytes

        return format_bytes
    if name in ("check", "catch_up"):  # the one upward import: a re-export of the grader's entry for notebooks
        import checks

        return getattr(checks, name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
