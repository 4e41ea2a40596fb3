"""The memory probe's records: each measurement as the measuring process itself wrote it, read by the grader.

The probe's child (:mod:`helpers.challenge.probe_child`) writes one JSON file per measurement into
:data:`helpers.paths.MEMORY_RECORDS_DIR` (``<pid>-<mode>.json``); only that process writes them (its writer is
private to it). The challenge's grader compares the notebook's ``memory`` with them (:func:`read_record`) instead of
trusting typed numbers. The records are evidence against numbers typed into a notebook, not proof: a notebook can
still write such a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.paths import MEMORY_RECORDS_DIR

KEEP_RECORDS = 60
"""Measurement records kept in :data:`helpers.paths.MEMORY_RECORDS_DIR` (the newest); older ones are removed."""


def record_path(pid: int, mode: str, folder: Path | None = None) -> Path:
    """Where the measurement of ``mode`` by process ``pid`` is recorded (default folder: ``MEMORY_RECORDS_DIR``)."""
    return (folder or MEMORY_RECORDS_DIR) / f"{pid}-{mode}.json"


def read_record(pid: Any, mode: str, folder: Path | None = None) -> dict[str, Any] | None:
    """The measurement process ``pid`` recorded for ``mode`` (the probe's result dict), or ``None`` if there is none,
    it is unreadable, or ``pid`` is not an ``int``."""
    if isinstance(pid, bool) or not isinstance(pid, int):
        return None
    try:
        return json.loads(record_path(pid, mode, folder).read_text())
    except (OSError, ValueError):
        return None
