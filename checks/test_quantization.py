"""BitsAndBytesConfig construction and the measured footprints."""

from __future__ import annotations

import logging

import pytest
import torch

from helpers import quantization as q
from helpers.models import resolve_model


def test_4bit_is_nf4_with_double_quant_and_device_compute_dtype(monkeypatch):
    monkeypatch.setattr(q, "pick_dtype", lambda device: torch.bfloat16)
    config = q.quantization_config(4)
    assert config.load_in_4bit and not config.load_in_8bit
    assert config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype is torch.bfloat16


def test_4bit_compute_dtype_is_fp32_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert q.quantization_config(4).bnb_4bit_compute_dtype is torch.float32


def test_8bit():
    config = q.quantization_config(8)
    assert config.load_in_8bit and not config.load_in_4bit


@pytest.mark.parametrize("bits", [2, 3, 16, 32, "4", True, None])
def test_invalid_bits_name_the_allowed_values(bits):
    with pytest.raises(ValueError, match=r"\(4, 8\)"):
        q.quantization_config(bits)


def test_unknown_variant():
    with pytest.raises(ValueError, match="choose from"):
        q.measure_footprints("unused", variants=("fp32", "int3"))


def test_bitsandbytes_noise_is_silenced():
    q.silence_bitsandbytes()
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() >= logging.ERROR


def test_format_footprints():
    rows = [q.Footprint("fp32", 2**29, 1.0), q.Footprint("nf4", 2**27, 0.25)]
    assert q.format_footprints(rows).splitlines()[1:] == [
        "fp32       512.0 MiB     100%", "nf4        128.0 MiB      25%"]


@pytest.mark.slow
def test_measured_footprints_shrink_with_precision():
    rows = {f.variant: f for f in q.measure_footprints(resolve_model("smollm2", verbose=False))}
    assert rows["fp32"].ratio == 1.0
    assert rows["bf16"].ratio == pytest.approx(0.5, abs=0.01)
    assert rows["nf4"].ratio < rows["int8"].ratio < rows["bf16"].ratio
    assert rows["nf4"].ratio < 0.4  # the foundation's acceptance bar


@pytest.mark.slow
def test_4bit_model_generates_on_this_device():
    from transformers import AutoTokenizer

    path = resolve_model("smollm2", verbose=False)
    model = q.load_quantized(path, 4)
    tokenizer = AutoTokenizer.from_pretrained(path)
    inputs = tokenizer("The capital of France is", return_tensors="pt").to(model.device)
    out = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 5
    assert any("Params4bit" in type(p).__name__ for p in model.parameters())
