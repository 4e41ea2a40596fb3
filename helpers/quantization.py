"""The quantization measurements the Exercise writes and the Reflection reads: one schema, one file, one plot.

03 · Exercise, Task 5 has the learner write the ``BitsAndBytesConfig`` for 8-bit and 4-bit NF4 and
load SmolLM2 with it; a given cell measures fp32, bf16 and those two. What is not the lesson lives here::

    save_measurements({"fp32": {...}, "bf16": {...}, "int8": {...}, "nf4": {...}})   # outputs/exercise/...
    plot_measurements(load_measurements())                                             # three bar charts

bitsandbytes (0.49 and newer) runs 4-bit and 8-bit layers on the CPU as well as on CUDA; 0.50 also on Apple
Silicon (macOS 14+), on its CPU and on MPS. Where it cannot, :func:`quantization_support` says so in one sentence
and the Exercise's measuring cell measures fp32 and bf16 only::

    reason = quantization_support(info.device)   # None: 8-bit and 4-bit loads work here
"""

from __future__ import annotations

import platform
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from helpers.jsonfile import describe, read_json, validate, write_json
from helpers.paths import QUANTIZATION_PATH
from helpers.pins import installed_version as _installed_version

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure

VARIANTS = ("fp32", "bf16", "int8", "nf4")
"""Full precision, bfloat16, bitsandbytes 8-bit (LLM.int8), 4-bit NF4 with double quantization."""
MEASUREMENTS_PATH: Path = QUANTIZATION_PATH
"""Where 03 · Exercise saves its measurements (05 · Reflection reads them; :data:`helpers.paths.QUANTIZATION_PATH`)."""


BITSANDBYTES_SUPPORT_URL = ("https://github.com/bitsandbytes-foundation/bitsandbytes/blob/0.50.0/README.md"
                            "#accelerator-support")
"""bitsandbytes' accelerator table (also on its PyPI page): macOS 14+ on Apple M1 or newer, CPU and ``mps``, has
LLM.int8 (not yet optimized for speed) and 4-bit; there is no row for Intel Macs (macOS x86-64)."""
MPS_BACKEND_URL = "https://github.com/bitsandbytes-foundation/bitsandbytes/pull/1983"
"""bitsandbytes' MPS backend without hub kernels: every 4-bit and LLM.int8 configuration on MPS; needs torch 2.9+."""
APPLE_MIN_MACOS = 14
"""Oldest macOS bitsandbytes' Apple wheel installs on (``macosx_14_0_arm64``)."""
APPLE_MIN_BITSANDBYTES = (0, 50)
"""First bitsandbytes release whose README lists the Apple CPU and MPS backends (the workshop pins 0.50.2)."""
MPS_MIN_TORCH = (2, 9)
"""Oldest torch bitsandbytes' MPS backend runs on (:data:`MPS_BACKEND_URL`)."""
SKIP_ADVICE = ("so the measuring cell of Task 5 skips int8 and nf4 and measures fp32 and bf16 only; write "
               "make_quantization_config and load_quantized all the same, and the rest of the exercise and the course "
               "work as usual")
"""What the learner does where 8-bit and 4-bit loads cannot work (ends every :func:`quantization_support` reason)."""


def _version_tuple(text: str) -> tuple[int, ...]:
    """``"2.13.0+cpu"`` -> ``(2, 13, 0)``: the leading numeric release parts."""
    parts = []
    for part in text.split("+")[0].split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits[0]))
    return tuple(parts)


def quantization_support(device: torch.device | str | None = None) -> str | None:
    """Whether bitsandbytes can load 8-bit and 4-bit models on ``device``: ``None`` if it can, else one sentence.

    The sentence says why not and what to do (:data:`SKIP_ADVICE`). It asks the platform, not bitsandbytes (no import,
    no traceback), following bitsandbytes 0.50's accelerator table (:data:`BITSANDBYTES_SUPPORT_URL`):

    * bitsandbytes not installed: no backend at all;
    * a device other than ``cpu``, ``cuda`` or ``mps``;
    * macOS (``platform.system() == "Darwin"``): only Apple Silicon (``platform.machine() == "arm64"``), macOS 14 or
      newer (``platform.mac_ver()``), bitsandbytes 0.50 or newer, and on ``mps`` torch 2.9 or newer.

    Linux and Windows CPUs and CUDA GPUs are taken as supported (bitsandbytes' x86-64 CPU minimum is AVX2).

    Args:
        device: where the models go (``info.device``); ``None``: :func:`helpers.device.pick_device`'s choice.
    """
    import torch  # here, not at the top: 05 · Reflection reads the measurements without torch

    from helpers.device import pick_device

    kind = (pick_device() if device is None else torch.device(device)).type
    installed = _installed_version("bitsandbytes")
    if installed is None:
        return f"bitsandbytes is not installed in this environment (make setup installs it), {SKIP_ADVICE}."
    if kind not in ("cpu", "cuda", "mps"):
        return f"bitsandbytes has no backend the workshop uses for device {kind!r}, {SKIP_ADVICE}."
    if platform.system() != "Darwin":
        return None
    where = f"({BITSANDBYTES_SUPPORT_URL})"
    if platform.machine() != "arm64":
        return (f"bitsandbytes has no backend for Intel Macs (it supports macOS 14+ on Apple M1 or newer {where}), "
                f"{SKIP_ADVICE}.")
    macos = platform.mac_ver()[0]
    if macos and _version_tuple(macos)[:1] < (APPLE_MIN_MACOS,):
        return (f"bitsandbytes supports macOS {APPLE_MIN_MACOS} and newer and this Mac runs macOS {macos} {where}, "
                f"{SKIP_ADVICE}.")
    if _version_tuple(installed) < APPLE_MIN_BITSANDBYTES:
        wanted = ".".join(map(str, APPLE_MIN_BITSANDBYTES))
        return (f"bitsandbytes {installed} has no Apple backend ({wanted} has one {where}; make setup installs the "
                f"pinned version), {SKIP_ADVICE}.")
    if kind == "mps" and _version_tuple(torch.__version__) < MPS_MIN_TORCH:
        wanted = ".".join(map(str, MPS_MIN_TORCH))
        return (f"bitsandbytes' MPS backend needs torch {wanted} or newer and this is torch {torch.__version__} "
                f"({MPS_BACKEND_URL}; make setup installs the pinned version), {SKIP_ADVICE}.")
    return None


class Measurement(BaseModel):
    """What one variant cost and kept, as measured in the Exercise.

    Attributes:
        footprint_bytes: ``model.get_memory_footprint()``: parameters and buffers, in bytes.
        tokens_per_second: new tokens per second of one greedy, batched ``generate`` call.
        loss: mean cross-entropy (nats per token) on the Exercise's held-out text; lower is better.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    footprint_bytes: int = Field(gt=0)
    tokens_per_second: float = Field(gt=0)
    loss: float = Field(gt=0)


class Measurements(BaseModel):
    """The file's content: one :class:`Measurement` per variant of :data:`VARIANTS` (any subset)."""

    model_config = ConfigDict(extra="forbid")

    variants: dict[str, Measurement]
    device: str = ""
    """What ran them, e.g. ``"cpu (AVX2)"``: speeds depend on it."""


class MeasurementsError(ValueError):
    """The measurements are missing or malformed; the message says what to run."""


def save_measurements(variants: Mapping[str, Mapping[str, Any]], path: str | Path = MEASUREMENTS_PATH, *,
                      device: str = "") -> Path:
    """Validate and write the measurements (atomically), creating folders.

    Args:
        variants: ``{variant: {"footprint_bytes", "tokens_per_second", "loss"}}``.
        path: the JSON file (default :data:`MEASUREMENTS_PATH`).
        device: what ran them (shown next to the speeds).

    Raises:
        MeasurementsError: an unknown variant, a missing or extra key, or a non-positive number.
    """
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise MeasurementsError(f"unknown variant(s) {unknown}: use {VARIANTS}.")
    data = validate({"variants": variants, "device": device}, Measurements, what="This set of measurements",
                    again="Run the measuring cell of 03 · Exercise, Task 5.", error=MeasurementsError)
    return write_json(data, path)


def load_measurements(path: str | Path = MEASUREMENTS_PATH) -> Measurements:
    """The measurements saved by the Exercise.

    Raises:
        MeasurementsError: no file yet (run 03 · Exercise, Task 5) or a file that does not fit the schema.
    """
    measurements = read_json(path, Measurements, what=describe(path, "The quantization measurements file"),
                             again="Run 03 · Exercise, Task 5 again.", error=MeasurementsError)
    if measurements is None:
        raise MeasurementsError("no quantization measurements yet: run 03 · Exercise, Task 5 first.")
    return measurements


def plot_measurements(measurements: Measurements) -> Figure:
    """Three bar charts side by side: footprint (MiB, with the share of fp32), new tokens/s and held-out loss."""
    import matplotlib.pyplot as plt

    names = [v for v in VARIANTS if v in measurements.variants]
    rows = [measurements.variants[v] for v in names]
    colors = ["#4c72b0", "#55a868", "#dd8452", "#c44e52"][: len(names)]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    panels = (("memory footprint (MiB)", [r.footprint_bytes / 2**20 for r in rows]),
              ("new tokens per second", [r.tokens_per_second for r in rows]),
              ("held-out loss (lower is better)", [r.loss for r in rows]))
    for ax, (title, values) in zip(axes, panels, strict=True):
        bars = ax.bar(names, values, color=colors)
        ax.set_title(title)
        ax.margins(y=0.2)
        labels = [f"{v:.3f}" if "loss" in title else f"{v:.0f}" if "MiB" in title else f"{v:.1f}" for v in values]
        if "MiB" in title and "fp32" in measurements.variants:
            fp32 = measurements.variants["fp32"].footprint_bytes / 2**20
            labels = [f"{v:.0f} ({v / fp32:.0%})" for v in values]
        ax.bar_label(bars, labels=labels, fontsize=8)
    if "loss" in panels[2][0]:
        low, high = min(panels[2][1]), max(panels[2][1])
        axes[2].set_ylim(low - 0.5 * (high - low + 0.01), high + 0.5 * (high - low + 0.01))
    words = {1: "one precision", 2: "two precisions", 3: "three precisions", 4: "four precisions"}
    count = words.get(len(names), f"{len(names)} precisions")
    fig.suptitle(f"SmolLM2-135M, {count}, measured on {measurements.device or 'this machine'}", fontsize=10)
    fig.tight_layout()
    return fig
