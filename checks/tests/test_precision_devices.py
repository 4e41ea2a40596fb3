"""One precision decision, right on every device a learner opens the course on (faked: no GPU needed).

Each case fakes the device at the level torch itself reads (``torch.cuda.get_device_properties``,
``torch.backends.mps``, the CPU capability and flags) and asserts what the notebooks derive from the decision: the
weights' dtype, the mixed precision, QLoRA's compute dtype and the ``TrainingArguments`` flags.

A T4 (compute capability 7.5) can *create* bf16 tensors, so ``torch.cuda.is_bf16_supported()`` with its default
``including_emulation=True`` says True there, and bf16 then runs emulated and slowly; native bf16 starts at Ampere
(8.0). Sources: torch ``torch/cuda/__init__.py`` ``is_bf16_supported``; pytorch PR 148322 and diffusers PR 14129,
which fixed the same call elsewhere with ``including_emulation=False``; NVIDIA's compute capability table
(https://developer.nvidia.com/cuda-gpus).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from helpers import device as dev

GPUS = {  # name: (compute capability, the workshop's precision)
    "Tesla V100": ((7, 0), "fp16"),
    "Tesla T4": ((7, 5), "fp16"),
    "A100": ((8, 0), "bf16"),
    "L4": ((8, 9), "bf16"),
    "H100": ((9, 0), "bf16"),
}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "no": torch.float32}


def _fake_cuda(monkeypatch, name: str, capability: tuple[int, int]) -> None:
    """A CUDA machine with one GPU of ``capability``; like every CUDA GPU, it can create bf16 tensors."""
    major, minor = capability
    properties = SimpleNamespace(major=major, minor=minor, name=name, total_memory=16 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: properties)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    monkeypatch.setattr(torch.cuda, "_check_bf16_tensor_supported", lambda device: True)  # emulation possible
    monkeypatch.setattr(torch.version, "hip", None)


@pytest.mark.parametrize("name", list(GPUS))
def test_each_gpu_gets_its_native_half_precision(monkeypatch, name):
    capability, expected = GPUS[name]
    _fake_cuda(monkeypatch, name, capability)
    info = dev.setup(verbose=False)
    assert info.device.type == "cuda" and info.name == name
    assert info.mixed_precision == expected, f"{name} ({capability}) should train in {expected}"
    assert info.dtype is DTYPES[expected] and info.compute_dtype is DTYPES[expected]
    assert dev.trainer_flags(info.mixed_precision) == {"bf16": expected == "bf16", "fp16": expected == "fp16"}


def test_apple_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    info = dev.setup(verbose=False)
    assert info.device.type == "mps"
    assert info.dtype is torch.float16 and info.mixed_precision == "no" and info.compute_dtype is torch.float16
    assert dev.trainer_flags(info.mixed_precision) == {"bf16": False, "fp16": False}


CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 {extra}\n"


@pytest.mark.parametrize(("capability", "extra", "expected"), [
    ("AVX2", "avx2 fma", "no"),                             # most laptops
    ("AVX512", "avx512f avx512_bf16", "bf16"),              # AVX-512 BF16 servers
    ("AVX512", "avx512f", "no"),                            # AVX-512 without bf16 instructions
])
def test_cpus(monkeypatch, capability, extra, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    read_flags = dev.cpu_flags
    monkeypatch.setattr(dev, "cpu_flags", lambda cpuinfo=None: read_flags(cpuinfo or CPUINFO.format(extra=extra)))
    info = dev.setup(verbose=False)
    assert info.device.type == "cpu" and info.dtype is torch.float32
    assert info.mixed_precision == expected and info.compute_dtype is DTYPES[expected]
    assert dev.trainer_flags(info.mixed_precision) == {"bf16": expected == "bf16", "fp16": False}
