"""Helpers of the Hugging Face Transformers workshop.

Import this package first in every notebook: it switches the Hugging Face
libraries to offline mode (unless ``WORKSHOP_MODELS=hub``) before they are
imported. Heavy modules load lazily::

    import helpers
    info = helpers.setup()                               # device, dtype, seeds
    path = helpers.resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct")
    helpers.check("demo")                                # instant feedback
"""

from __future__ import annotations

import importlib
from typing import Any

from helpers import hub_mode

MODEL_SOURCE = hub_mode.apply()

_LAZY = {
    "setup": "helpers.device",
    "DeviceInfo": "helpers.device",
    "resolve_model": "helpers.models",
    "CHAT_MODEL_ID": "helpers.models",
    "EMBEDDING_MODEL_ID": "helpers.models",
    "peak_memory": "helpers.memory",
    "format_bytes": "helpers.memory",
    "check": "helpers.grading",
}

_SUBMODULES = {"device", "grading", "hub_mode", "memory", "models", "noise", "phases", "quantization"}

__all__ = ["MODEL_SOURCE", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"helpers.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
