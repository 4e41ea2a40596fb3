"""Device, dtype and seeding: one call that makes a notebook run anywhere.

``setup()`` picks the best accelerator (CUDA > Apple MPS > CPU), the matching
dtype, seeds every random generator and prints a one-line summary. It never
fails for lack of a GPU: the CPU path is the default, tested one.
"""

from __future__ import annotations

import platform
import random
from dataclasses import dataclass
from pathlib import Path

import torch

DEFAULT_SEED = 42


@dataclass(frozen=True)
class DeviceInfo:
    """What :func:`setup` chose.

    Attributes:
        device: where to put models and tensors (``cuda``, ``mps`` or ``cpu``).
        dtype: floating-point type to load models in (``dtype=`` of ``from_pretrained``).
        mixed_precision: ``"bf16"``, ``"fp16"`` or ``"no"``: what ``TrainingArguments(bf16=..., fp16=...)``
            should ask for on this device (see :func:`mixed_precision`).
        name: human-readable device name (GPU model or CPU architecture).
        seed: the seed given to every random generator.
        threads: CPU threads torch uses for matrix maths.
    """

    device: torch.device
    dtype: torch.dtype
    mixed_precision: str
    name: str
    seed: int
    threads: int

    @property
    def compute_dtype(self) -> torch.dtype:
        """dtype that matmuls run in: autocast and ``bnb_4bit_compute_dtype`` (see :func:`compute_dtype`)."""
        return compute_dtype(self.device)

    def summary(self) -> str:
        """One line describing the environment, for the top of a notebook.

        ``weights=`` is the dtype models load in; ``training=`` says whether the Trainer multiplies in bf16 or fp16
        (mixed precision: the weights stay in ``weights=``'s dtype, the matmuls run in the smaller one) or in fp32.
        """
        import transformers

        from helpers import env

        dtype = str(self.dtype).removeprefix("torch.")
        training = "float32" if self.mixed_precision == "no" else f"{self.mixed_precision} mixed precision"
        return (
            f"device={self.device.type} ({self.name}) | weights={dtype} | training={training} | "
            f"seed={self.seed} | threads={self.threads} | torch {torch.__version__.split('+')[0]} | "
            f"transformers {transformers.__version__} | models: {env.model_source()}"
        )


def pick_device(prefer: str | None = None) -> torch.device:
    """Choose the fastest available device: CUDA, then Apple MPS, then CPU.

    Args:
        prefer: force ``"cuda"``, ``"mps"`` or ``"cpu"``; ``None`` picks automatically.

    Raises:
        ValueError: ``prefer`` is not one of the three names, or names a device
            that this machine does not have.
    """
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"prefer={prefer!r}: use 'cuda', 'mps', 'cpu' or None (automatic).")
        if not available[prefer]:
            raise ValueError(
                f"prefer={prefer!r} but this machine has no {prefer.upper()} device; "
                "use prefer=None to fall back to the CPU."
            )
        return torch.device(prefer)
    for name in ("cuda", "mps"):
        if available[name]:
            return torch.device(name)
    return torch.device("cpu")


def pick_dtype(device: torch.device | str) -> torch.dtype:
    """Best dtype for inference and training on ``device``.

    * CUDA with bfloat16 support (Ampere, compute capability 8.0, and newer): ``torch.bfloat16``
    * older CUDA GPUs (T4, V100): ``torch.float16`` (bf16 would be emulated or fail)
    * Apple MPS: ``torch.float16``
    * CPU: ``torch.float32`` (half precision on CPU is slow and lossy)
    """
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if kind == "mps":
        return torch.float16
    return torch.float32


BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
"""``/proc/cpuinfo`` flags of native bfloat16 matrix instructions (AVX-512 BF16, AMX)."""


def _cpu_flags(cpuinfo: str | None = None) -> set[str]:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:  # macOS, Windows: no such file
            return set()
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return flags


def cpu_bf16_native(*, capability: str | None = None, cpuinfo: str | None = None) -> bool:
    """Whether torch will run bfloat16 matmuls natively on this CPU (so bf16 autocast pays off).

    Both must hold: torch's own kernel choice, ``torch.backends.cpu.get_cpu_capability()``,
    is an AVX-512 one (``"AVX512"``, ``"AVX512_BF16"``, ``"AMX"`` ...), and the CPU has bf16
    instructions (:data:`BF16_CPU_FLAGS` in ``/proc/cpuinfo``). The first follows
    ``ATEN_CPU_CAPABILITY``: with the AVX2 stand-in (``ATEN_CPU_CAPABILITY=avx2
    MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2``) torch reports ``"AVX2"`` and a bf16
    GEMM runs about 1,000 x slower than fp32 (measured on an AVX-512 BF16 Xeon, the workshop's
    issue tracker), so the answer must be ``False`` there, as on a real AVX2 laptop, although
    ``/proc/cpuinfo`` still lists ``avx512_bf16``.

    Args:
        capability: torch's capability string (default: ask torch); for tests.
        cpuinfo: text of ``/proc/cpuinfo`` (default: read it; elsewhere no flags); for tests.
    """
    if capability is None:
        capability = torch.backends.cpu.get_cpu_capability()
    if not capability.upper().startswith(("AVX512", "AMX")):
        return False
    return bool(_cpu_flags(cpuinfo) & BF16_CPU_FLAGS)


def mixed_precision(device: torch.device | str) -> str:
    """The one decision of the workshop's precision: ``"bf16"``, ``"fp16"`` or ``"no"``.

    * CUDA: ``"bf16"`` on Ampere and newer (``torch.cuda.is_bf16_supported()``), else ``"fp16"``.
    * Apple MPS: ``"no"`` (autocast on Apple GPUs is incomplete).
    * CPU: ``"bf16"`` where :func:`cpu_bf16_native` (measured on an AVX-512 BF16 Xeon: a LoRA
      step 0.56 s with bf16 autocast, 0.76 s in fp32), else ``"no"``: fp32.

    Training (``TrainingArguments(bf16=..., fp16=...)``), generation autocast and QLoRA's
    ``bnb_4bit_compute_dtype`` (:func:`compute_dtype`) all follow it.
    """
    kind = torch.device(device).type
    if kind == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if kind == "cpu" and cpu_bf16_native():
        return "bf16"
    return "no"


def compute_dtype(device: torch.device | str) -> torch.dtype:
    """dtype matmuls run in on ``device``: bf16/fp16 under :func:`mixed_precision`, else fp32 (fp16 on MPS)."""
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(mixed_precision(device), pick_dtype(device))


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU), as ``transformers.set_seed`` does.

    Same generator states as ``transformers.set_seed(seed)`` (``transformers/trainer_utils.py``; accelerate's
    ``utils/random.py`` does the same), without importing the Trainer's modules: ``transformers.trainer_utils``
    imports peft and bitsandbytes, about 3 s that a notebook without training would wait for.

    Raises:
        TypeError: ``seed`` is not an ``int``.
        ValueError: ``seed`` is negative or not below 2**32 (NumPy's limit).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # every device's generator, CUDA's included


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU"
    return f"CPU {platform.machine()}"


def setup(seed: int = DEFAULT_SEED, *, prefer: str | None = None, verbose: bool = True,
          quiet: bool = True) -> DeviceInfo:
    """Pick device and dtype, seed every generator and print a summary line.

    Args:
        seed: seed for ``random``, NumPy and torch.
        prefer: force a device (see :func:`pick_device`).
        verbose: print :meth:`DeviceInfo.summary`.
        quiet: silence harmless library noise (see :func:`helpers.env.quiet_libraries`).

    In IPython it also installs :func:`helpers.versions.install_exception_hook`, and it prints
    :func:`helpers.versions.drift_note` when the installed libraries differ from the pins.

    Returns:
        The :class:`DeviceInfo` to use in ``from_pretrained(..., dtype=info.dtype)``
        and ``model.to(info.device)``.
    """
    if quiet:  # first: importing transformers (for seeding) imports bitsandbytes, which logs at import
        from helpers.env import quiet_libraries

        quiet_libraries()
    device = pick_device(prefer)
    seed_everything(seed)
    from helpers.versions import drift_note, install_exception_hook

    install_exception_hook()  # a removed keyword or an uncached model id ends with the fix, in one line
    info = DeviceInfo(
        device=device,
        dtype=pick_dtype(device),
        mixed_precision=mixed_precision(device),
        name=_device_name(device),
        seed=seed,
        threads=torch.get_num_threads(),
    )
    if verbose:
        print(info.summary())
        note = drift_note()
        if note:
            print(note)
    return info
