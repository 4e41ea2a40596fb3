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


def test_seed_everything_matches_transformers_set_seed():
    from transformers import set_seed

    dev.seed_everything(11)
    ours = (random.random(), np.random.rand(), torch.rand(3).tolist())
    set_seed(11)
    assert (random.random(), np.random.rand(), torch.rand(3).tolist()) == ours


def test_setup_does_not_import_the_trainer_modules():
    """A notebook that does not train does not wait for peft and bitsandbytes (about 3 s) in its first cell."""
    import subprocess
    import sys

    code = ("import sys, helpers; helpers.setup(verbose=False); "
            "print(sorted({'peft', 'bitsandbytes'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("seed", "error"), [("42", TypeError), (1.5, TypeError), (True, TypeError),
                                             (-1, ValueError), (2**32, ValueError)])
def test_bad_seeds(seed, error):
    with pytest.raises(error):
        dev.seed_everything(seed)


def test_setup_prints_one_summary_line(no_gpu, capsys):
    info = dev.setup(seed=3)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "device=cpu" in out[0] and "weights=float32" in out[0] and "training=" in out[0] and "seed=3" in out[0]
    assert info.device.type == "cpu" and info.seed == 3 and info.threads >= 1


CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 {extra}\nbugs\t\t: none\n"


@pytest.mark.parametrize(("capability", "extra", "expected"), [
    ("AVX512", "avx512f avx512_bf16", True),
    ("AVX512", "amx_tile amx_bf16", True),
    ("AVX512", "avx512f", False),            # AVX-512 without bf16: emulated, slower than fp32
    ("AVX2", "avx512f avx512_bf16", False),  # the AVX2 stand-in on a bf16 CPU: torch will not use bf16 kernels
    ("DEFAULT", "", False),
])
def test_cpu_bf16_follows_torch_capability_and_the_cpu_flags(capability, extra, expected):
    assert dev.cpu_bf16_native(capability=capability, cpuinfo=CPUINFO.format(extra=extra)) is expected


def test_cpu_bf16_without_cpuinfo(monkeypatch):
    def unreadable(self, *args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(dev.Path, "read_text", unreadable)
    assert dev.cpu_bf16_native(capability="AVX512") is False


@pytest.mark.parametrize(("native", "expected", "dtype"),
                         [(True, "bf16", torch.bfloat16), (False, "no", torch.float32)])
def test_one_precision_decision_on_the_cpu(monkeypatch, no_gpu, native, expected, dtype):
    monkeypatch.setattr(dev, "cpu_bf16_native", lambda **kwargs: native)
    assert dev.mixed_precision("cpu") == expected
    assert dev.compute_dtype("cpu") is dtype
    info = dev.setup(verbose=False)
    assert info.mixed_precision == expected and info.compute_dtype is dtype and info.dtype is torch.float32


@pytest.mark.parametrize(("bf16", "expected", "dtype"),
                         [(True, "bf16", torch.bfloat16), (False, "fp16", torch.float16)])
def test_one_precision_decision_on_cuda(monkeypatch, bf16, expected, dtype):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert dev.mixed_precision("cuda") == expected and dev.compute_dtype("cuda") is dtype


def test_one_vocabulary_gives_the_trainer_flags_the_autocast_dtype_and_the_label():
    """What every tool derives from a mixed precision, from helpers.device alone (the gpu-check, the reference, the
    memory probe, the grader's TrainingArguments check)."""
    assert dev.trainer_flags("bf16") == {"bf16": True, "fp16": False}
    assert dev.trainer_flags("fp16") == {"bf16": False, "fp16": True}
    assert dev.trainer_flags("no") == {"bf16": False, "fp16": False}
    assert [dev.autocast_dtype(m) for m in dev.MIXED_PRECISIONS] == [torch.bfloat16, torch.float16, None]
    assert [dev.training_label(m) for m in dev.MIXED_PRECISIONS] == [
        "bf16 mixed precision", "fp16 mixed precision", "float32"]
    assert dev.Precision(torch.float16, "fp16", torch.float16).trainer_flags == {"bf16": False, "fp16": True}
    for wrong in ("fp32", "float32", "bf16 autocast", None):
        for function in (dev.trainer_flags, dev.autocast_dtype, dev.training_label):
            with pytest.raises(ValueError, match="use one of 'bf16', 'fp16', 'no'"):
                function(wrong)


def test_the_avx2_stand_in_turns_bf16_off():
    """Under ATEN_CPU_CAPABILITY=avx2 torch reports AVX2 and the workshop must pick fp32 (a fresh process)."""
    import os
    import subprocess
    import sys

    code = ("import torch; from helpers.device import mixed_precision as m; "
            "print(torch.backends.cpu.get_cpu_capability(), m('cpu'))")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.split() == ["AVX2", "no"]
