"""The pinned packages: the requirements file's ``name==version`` lines, and what is installed.

The lowest floor of the version questions: :mod:`helpers.versions` (drift, diagnoses), :mod:`helpers.colab` (a Colab
session's install plan), :mod:`helpers.quantization` and ``make gpu-wheels`` read pins and installed versions here.
"""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path

from helpers.paths import REQUIREMENTS


@cache
def pin_lines(requirements: Path = REQUIREMENTS) -> tuple[tuple[str, str], ...]:
    """``(name as written, version)`` of every ``name==version`` line of ``requirements`` (comments ignored): the one
    reader of the pins file (:func:`helpers.versions.pinned_versions`, ``helpers.colab``'s Colab plan,
    ``make gpu-wheels``)."""
    pins = []
    for line in Path(requirements).read_text().splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins.append((name.strip(), version.strip()))
    return tuple(pins)


def installed_version(name: str) -> str | None:
    """The installed version of a distribution, or ``None`` when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
