"""Expectations that several autograder parts check, written once (the parts are loaded by path, share no module)."""

from __future__ import annotations

from typing import Any

from checks.grader.registry import expect


def expect_nf4_config(config: Any, name: str) -> None:
    """Fail unless ``config`` is QLoRA's 4-bit set-up: NF4, double quantization, the device's compute dtype.

    Args:
        config: a ``BitsAndBytesConfig`` (the caller has checked the type).
        name: how the learner's code names it in messages, e.g. ``"bnb_config"`` or ``"make_quantization_config(4)"``.

    Raises:
        CheckFailed: the first setting that differs, with what to write instead.
    """
    from helpers.device import compute_dtype, pick_device

    expect(config.load_in_4bit and not config.load_in_8bit,
           f"{name} does not load in 4-bit: set load_in_4bit=True (load_in_8bit is LLM.int8).")
    expect(config.bnb_4bit_quant_type == "nf4",
           f"{name} has bnb_4bit_quant_type {config.bnb_4bit_quant_type!r}: use \"nf4\" (normal-float 4, spaced for "
           "normally distributed weights).")
    expect(config.bnb_4bit_use_double_quant,
           f"{name} has bnb_4bit_use_double_quant off: double quantization also quantizes the per-block scales "
           "(about 0.4 bit per weight saved).")
    expected = compute_dtype(pick_device())
    expect(config.bnb_4bit_compute_dtype == expected,
           f"{name} has bnb_4bit_compute_dtype {config.bnb_4bit_compute_dtype}: on this device the 4-bit matmuls "
           f"should run in {expected} (info.compute_dtype).")
