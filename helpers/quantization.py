"""4-bit and 8-bit loading with bitsandbytes, and memory footprint comparisons.

The notebooks write ``BitsAndBytesConfig`` themselves once; these helpers give the
same configuration a name and measure what it saves. bitsandbytes (0.49 and newer)
runs 4-bit and 8-bit layers on the CPU as well as on CUDA.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from helpers.device import pick_device, pick_dtype
from helpers.memory import format_bytes
from helpers.noise import progress_bars_off, silence_bitsandbytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from transformers import BitsAndBytesConfig

ALLOWED_BITS = (4, 8)
VARIANTS = ("fp32", "bf16", "int8", "nf4")
"""Footprint variants: full precision, bfloat16, bitsandbytes 8-bit, 4-bit NF4."""


def quantization_config(bits: int, *, compute_dtype: torch.dtype | None = None) -> BitsAndBytesConfig:
    """The workshop's ``BitsAndBytesConfig`` for ``bits`` = 4 or 8.

    4-bit: NF4 (normal-float 4, the QLoRA paper's data type) with double
    quantization (the quantization constants are quantized too) and matmuls
    computed in ``compute_dtype``. 8-bit: LLM.int8() with outlier handling.

    Args:
        bits: 4 or 8.
        compute_dtype: dtype of 4-bit matmuls; default :func:`helpers.device.pick_dtype`
            of the best device (bf16/fp16 on GPUs, fp32 on CPU).

    Raises:
        ValueError: ``bits`` is not 4 or 8.
    """
    if isinstance(bits, bool) or bits not in ALLOWED_BITS:
        raise ValueError(f"bits={bits!r} is not supported: use one of {ALLOWED_BITS} (4-bit NF4 or 8-bit).")
    silence_bitsandbytes()
    from transformers import BitsAndBytesConfig

    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype or pick_dtype(pick_device()),
    )


def load_quantized(model_path: str, bits: int, *, device: torch.device | str | None = None, **kwargs):
    """Load a causal LM with its linear layers quantized to ``bits``.

    Args:
        model_path: local folder or Hub id (see :func:`helpers.models.resolve_model`).
        bits: 4 or 8.
        device: where to place it (default: best available device).
        **kwargs: passed on to ``AutoModelForCausalLM.from_pretrained``.

    Raises:
        ValueError: ``bits`` is not 4 or 8.
    """
    from transformers import AutoModelForCausalLM

    config = quantization_config(bits)
    target = torch.device(device) if device is not None else pick_device()
    kwargs.setdefault("dtype", pick_dtype(target))
    return AutoModelForCausalLM.from_pretrained(
        model_path, quantization_config=config, device_map={"": target.type}, **kwargs
    )


@dataclass(frozen=True)
class Footprint:
    """Memory footprint of one variant, measured with ``model.get_memory_footprint()``.

    Attributes:
        variant: ``"fp32"``, ``"bf16"``, ``"int8"`` or ``"nf4"``.
        bytes: parameters and buffers, in bytes.
        ratio: ``bytes`` divided by the fp32 footprint.
    """

    variant: str
    bytes: int
    ratio: float


def measure_footprints(model_path: str, variants: tuple[str, ...] = VARIANTS) -> list[Footprint]:
    """Load the model once per variant (one at a time) and measure each footprint.

    Non-quantized parts (embeddings, norms) stay in fp32 for int8/nf4, as on a CPU.

    Args:
        model_path: local folder or Hub id of a causal LM.
        variants: any of :data:`VARIANTS`; ``"fp32"`` is always measured first
            because the ratios are relative to it.

    Raises:
        ValueError: an unknown variant name.
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"Unknown variant(s) {unknown}: choose from {VARIANTS}.")
    from transformers import AutoModelForCausalLM

    sizes: dict[str, int] = {}
    for variant in ("fp32", *[v for v in variants if v != "fp32"]):
        with progress_bars_off():  # sub-second loads: bars would only add noise
            if variant in ("fp32", "bf16"):
                dtype = torch.float32 if variant == "fp32" else torch.bfloat16
                model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
            else:
                bits = 8 if variant == "int8" else 4
                model = load_quantized(model_path, bits, device="cpu", dtype=torch.float32)
        sizes[variant] = int(model.get_memory_footprint())
        del model
        gc.collect()
    base = sizes["fp32"]
    return [Footprint(v, sizes[v], sizes[v] / base) for v in variants]


def format_footprints(footprints: list[Footprint]) -> str:
    """A fixed-width table of footprints, ready to print."""
    lines = [f"{'variant':<8}{'memory':>12}{'vs fp32':>10}"]
    lines += [f"{f.variant:<8}{format_bytes(f.bytes):>12}{f.ratio:>9.0%}" for f in footprints]
    return "\n".join(lines)


def plot_footprints(footprints: list[Footprint], ax: Axes | None = None) -> Axes:
    """Bar chart of footprints in MiB, each bar labelled with its share of fp32."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    names = [f.variant for f in footprints]
    mib = [f.bytes / 2**20 for f in footprints]
    bars = ax.bar(names, mib, color=["#4c72b0", "#55a868", "#dd8452", "#c44e52"][: len(names)])
    for bar, fp in zip(bars, footprints, strict=True):
        ax.annotate(f"{fp.ratio:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom")
    ax.set_ylabel("memory footprint (MiB)")
    ax.set_title("Same model, different precisions")
    ax.margins(y=0.15)
    return ax
