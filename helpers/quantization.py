"""The quantization measurements the Exercise writes and the Reflection reads: one schema, one file, one plot.

03 · Exercise, Task 5 has the learner write the ``BitsAndBytesConfig`` for 8-bit and 4-bit NF4 and
load SmolLM2 with it; a given cell measures fp32, bf16 and those two. What is not the lesson lives here::

    save_measurements({"fp32": {...}, "bf16": {...}, "int8": {...}, "nf4": {...}})   # outputs/exercise/...
    plot_measurements(load_measurements())                                             # three bar charts

bitsandbytes (0.49 and newer) runs 4-bit and 8-bit layers on the CPU as well as on CUDA.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from helpers.jsonfile import describe, read_json, validate, write_json
from helpers.paths import QUANTIZATION_PATH

if TYPE_CHECKING:
    from matplotlib.figure import Figure

VARIANTS = ("fp32", "bf16", "int8", "nf4")
"""Full precision, bfloat16, bitsandbytes 8-bit (LLM.int8), 4-bit NF4 with double quantization."""
MEASUREMENTS_PATH: Path = QUANTIZATION_PATH
"""Where 03 · Exercise saves its measurements (05 · Reflection reads them; :data:`helpers.paths.QUANTIZATION_PATH`)."""


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
    fig.suptitle(f"SmolLM2-135M, four precisions, measured on {measurements.device or 'this machine'}", fontsize=10)
    fig.tight_layout()
    return fig
