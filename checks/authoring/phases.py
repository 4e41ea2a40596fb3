"""The workshop's five phases, their time boxes and the notebooks' run-time targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Phase:
    """One phase of the 2.5-hour workshop.

    Attributes:
        prefix: notebook file-name prefix, e.g. ``"02"`` for ``02_demo_....ipynb``.
        name: phase name shown to learners.
        budget_s: time box of the phase in the room, in seconds.
        run_target_s: target wall time for executing the solution notebook
            headless on a 2-core CPU, in seconds (a small fraction of the budget,
            so an instructor can re-run it live).
    """

    prefix: str
    name: str
    budget_s: int
    run_target_s: int


PHASES: tuple[Phase, ...] = (
    Phase("01", "Concept", 30 * 60, 60),
    Phase("02", "Demo", 30 * 60, 120),
    Phase("03", "Exercise", 45 * 60, 180),
    Phase("04", "LoRA Challenge", 30 * 60, 360),
    Phase("05", "Reflection", 15 * 60, 30),
)


def phase_of(notebook: str | Path) -> Phase:
    """The phase a notebook belongs to, from its two-digit file-name prefix.

    Raises:
        ValueError: the file name does not start with a known phase prefix.
    """
    name = Path(notebook).name
    for phase in PHASES:
        if name.startswith(phase.prefix + "_"):
            return phase
    prefixes = ", ".join(p.prefix for p in PHASES)
    raise ValueError(f"{name!r} does not start with a phase prefix ({prefixes}) followed by '_'.")
