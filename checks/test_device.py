"""Device and dtype choice, seeding; GPU paths tested by their logic with patched probes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers import device as dev


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_cpu_only_machine_gets_cpu_and_fp32(no_gpu):
    assert dev.pick_device() == torch.device("cpu")
    assert dev.pick_dtype("cpu") is torch.float32


def test_cuda_wins_over_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dev.pick_device().type == "cuda"


def test_mps_when_no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dev.pick_device().type == "mps"
    assert dev.pick_dtype("mps") is torch.float16


@pytest.mark.parametrize(("bf16", "expected"), [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_dtype_follows_bf16_support(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert dev.pick_dtype(torch.device("cuda")) is expected


def test_prefer_unknown_device_is_rejected():
    with pytest.raises(ValueError, match="'cuda', 'mps', 'cpu'"):
        dev.pick_device("tpu")


def test_prefer_missing_gpu_says_how_to_fall_back(no_gpu):
    with pytest.raises(ValueError, match="prefer=None"):
        dev.pick_device("cuda")


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    dev.seed_everything(7)
    first = draw()
    dev.seed_everything(7)
    assert draw() == first
    dev.seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize(("seed", "error"), [("42", TypeError), (1.5, TypeError), (True, TypeError),
                                             (-1, ValueError), (2**32, ValueError)])
def test_bad_seeds(seed, error):
    with pytest.raises(error):
        dev.seed_everything(seed)


def test_setup_prints_one_summary_line(no_gpu, capsys):
    info = dev.setup(seed=3)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "device=cpu" in out[0] and "dtype=float32" in out[0] and "seed=3" in out[0]
    assert info.device.type == "cpu" and info.seed == 3 and info.threads >= 1
