"""What the benchmark ran on: the CPU, the instruction set torch uses and the precision it chose."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pydantic import BaseModel

from helpers.device import cpu_model

STAND_IN_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}
"""The AVX2 stand-in: torch, MKL and oneDNN limited to AVX2 on any x86 CPU (torch then reports ``"AVX2"``)."""

CPU_KINDS: tuple[str, ...] = ("native", "avx2")
"""``make bench CPU=...``: the machine as it is, or under :data:`STAND_IN_ENV`."""


class Machine(BaseModel):
    """The machine and libraries one benchmark run measured."""

    cpu: str
    """The CPU model (``/proc/cpuinfo``'s ``model name``, else ``platform.processor()``)."""
    kind: str
    """``"native"`` or ``"avx2"`` (the stand-in)."""
    torch_capability: str
    """``torch.backends.cpu.get_cpu_capability()``: the kernels torch runs (``"AVX2"``, ``"AVX512_BF16"`` ...)."""
    mixed_precision: str
    """:func:`helpers.device.mixed_precision` on this machine: ``"bf16"`` or ``"no"`` on a CPU."""
    threads: int
    """``torch.get_num_threads()``."""
    date: str
    """When the run started (UTC, ISO 8601, seconds)."""
    torch: str
    transformers: str


def stand_in_active() -> bool:
    """Whether this process runs under the complete AVX2 stand-in (:data:`STAND_IN_ENV`)."""
    return all(os.environ.get(name, "").lower() == value.lower() for name, value in STAND_IN_ENV.items())


def check_kind(kind: str) -> None:
    """Refuse a run whose environment does not match the requested CPU kind.

    Raises:
        ValueError: ``kind`` is unknown, ``"avx2"`` without the stand-in's variables (they must be set before
            torch is imported: ``make bench CPU=avx2`` sets them), or ``"native"`` with some of them set.
    """
    if kind not in CPU_KINDS:
        raise ValueError(f"CPU={kind!r}: use one of {', '.join(CPU_KINDS)} (make bench CPU=avx2).")
    partial = [name for name in STAND_IN_ENV if name in os.environ]
    if kind == "avx2" and not stand_in_active():
        raise ValueError("CPU=avx2 needs " + " ".join(f"{k}={v}" for k, v in STAND_IN_ENV.items())
                         + " in the environment before torch starts: run make bench CPU=avx2.")
    if kind == "native" and partial:
        raise ValueError(f"CPU=native but {', '.join(partial)} is set: unset it, or run make bench CPU=avx2.")


def describe(kind: str) -> Machine:
    """The :class:`Machine` of this process (imports torch and transformers)."""
    import torch
    import transformers

    from helpers.device import mixed_precision

    return Machine(
        cpu=cpu_model(), kind=kind, torch_capability=torch.backends.cpu.get_cpu_capability(),
        mixed_precision=mixed_precision("cpu"), threads=torch.get_num_threads(),
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        torch=torch.__version__.split("+")[0], transformers=transformers.__version__,
    )
