"""What an artifact check may see of the notebook: a few names, passed to a clean process as data.

Artifact checks (a saved adapter, the test-split score, the inference script, the staged Hub
repositories) run in a process that never executed notebook code. The notebook's process
exports only the names such a check declares (``Part.check(..., reads=(...))``) as JSON:

* ``str``, ``int``, ``float``, ``bool`` and ``None`` as themselves; ``os.PathLike`` as a path;
* a Hugging Face card (``ModelCard``, ``DatasetCard``) as its text, rebuilt as the same class;
* anything else as its type name only, rebuilt as an empty object of a class of that name, so
  ``require(ns, "card", ModelCard)`` still says "should be a ModelCard, got dict".

No object of the notebook crosses, so nothing the notebook redefined can run in the clean process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_CARDS = ("ModelCard", "DatasetCard")


def export(value: Any) -> dict[str, Any]:
    """A JSON-serialisable description of ``value`` (see the module docstring)."""
    if value is None or type(value) in (str, int, float, bool):
        return {"kind": "value", "value": value}
    if isinstance(value, os.PathLike):
        return {"kind": "path", "value": os.fspath(value)}
    name = type(value).__name__
    if name in _CARDS and type(value).__module__.startswith("huggingface_hub"):
        return {"kind": "card", "class": name, "text": str(value)}
    return {"kind": "object", "class": name}


def export_names(ns: dict[str, Any], names: set[str] | list[str]) -> dict[str, dict[str, Any]]:
    """``{name: export(ns[name])}`` for the names ``ns`` defines (a missing name is left out)."""
    return {name: export(ns[name]) for name in sorted(names) if name in ns}


def restore(exported: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The namespace a clean check receives: :func:`export_names`'s output turned back into values."""
    import huggingface_hub

    ns: dict[str, Any] = {}
    for name, item in exported.items():
        kind = item.get("kind")
        if kind == "value":
            ns[name] = item["value"]
        elif kind == "path":
            ns[name] = Path(item["value"])
        elif kind == "card" and item.get("class") in _CARDS:
            ns[name] = getattr(huggingface_hub, item["class"])(item["text"])
        else:
            ns[name] = type(str(item.get("class", "object")), (), {})()
    return ns
