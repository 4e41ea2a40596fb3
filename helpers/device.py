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
        training = training_label(self.mixed_precision)
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


@dataclass(frozen=True)
class Precision:
    """The workshop's precision on one device (:func:`precision` decides it).

    Attributes:
        dtype: what models load in (``from_pretrained(..., dtype=...)``).
        mixed_precision: ``"bf16"``, ``"fp16"`` or ``"no"``: ``TrainingArguments(bf16=..., fp16=...)`` and generation
            autocast follow it.
        compute_dtype: what matmuls run in (autocast, QLoRA's ``bnb_4bit_compute_dtype``).
    """

    dtype: torch.dtype
    mixed_precision: str
    compute_dtype: torch.dtype

    @property
    def training(self) -> str:
        """How the Trainer multiplies, in words (:func:`training_label`)."""
        return training_label(self.mixed_precision)

    @property
    def trainer_flags(self) -> dict[str, bool]:
        """``TrainingArguments``' ``bf16=``/``fp16=`` keywords (:func:`trainer_flags`)."""
        return trainer_flags(self.mixed_precision)


MIXED_PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "no")
"""The workshop's one vocabulary of mixed precision (:attr:`Precision.mixed_precision`): ``"bf16"`` and ``"fp16"``
multiply in that half precision under autocast, ``"no"`` in the weights' own dtype (float32 on a CPU)."""
_AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {"bf16": torch.bfloat16, "fp16": torch.float16, "no": None}


def _known(mixed: str) -> str:
    if mixed not in MIXED_PRECISIONS:
        raise ValueError(f"mixed precision {mixed!r}: use one of {', '.join(map(repr, MIXED_PRECISIONS))}.")
    return mixed


def training_label(mixed: str) -> str:
    """``"bf16 mixed precision"``, ``"fp16 mixed precision"`` or ``"float32"`` for a mixed precision ``mixed``.

    Raises:
        ValueError: ``mixed`` is not one of :data:`MIXED_PRECISIONS`.
    """
    return "float32" if _known(mixed) == "no" else f"{mixed} mixed precision"


def trainer_flags(mixed: str) -> dict[str, bool]:
    """``TrainingArguments``' ``bf16=``/``fp16=`` keywords for a mixed precision ``mixed``.

    >>> trainer_flags("bf16")
    {'bf16': True, 'fp16': False}

    Raises:
        ValueError: ``mixed`` is not one of :data:`MIXED_PRECISIONS`.
    """
    return {"bf16": _known(mixed) == "bf16", "fp16": mixed == "fp16"}


def autocast_dtype(mixed: str) -> torch.dtype | None:
    """The dtype ``torch.autocast`` multiplies in for a mixed precision ``mixed``; ``None`` for ``"no"`` (no autocast).

    Raises:
        ValueError: ``mixed`` is not one of :data:`MIXED_PRECISIONS`.
    """
    return _AUTOCAST_DTYPES[_known(mixed)]


def cuda_bf16_native(device: torch.device | str | None = None) -> bool:
    """Whether the CUDA GPU runs bfloat16 natively: compute capability 8.0 (Ampere) and newer.

    ``torch.cuda.is_bf16_supported()`` says True on a T4 (7.5) or V100 (7.0) too, because it can *create* a bf16
    tensor there (its default ``including_emulation=True``), and bf16 maths then runs emulated and slowly. Sources:
    torch's ``torch/cuda/__init__.py`` (``is_bf16_supported``), pytorch PR 148322 and diffusers PR 14129 (the same
    fix elsewhere), https://developer.nvidia.com/cuda-gpus (compute capabilities).
    """
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # a torch without the argument (before 2.3): read the capability itself
        return torch.cuda.get_device_capability(device)[0] >= 8


def precision(device: torch.device | str) -> Precision:
    """The one decision of the workshop's precision on ``device``; every other choice follows it.

    ======================================  ==========  ================  =============
    device                                  dtype       mixed precision   compute dtype
    ======================================  ==========  ================  =============
    CUDA, Ampere (8.0) and newer            bfloat16    ``"bf16"``        bfloat16
    CUDA before Ampere (T4 7.5, V100 7.0)   float16     ``"fp16"``        float16
    Apple MPS                               float16     ``"no"``          float16
    CPU with native bf16 (AVX-512 BF16/AMX) float32     ``"bf16"``        bfloat16
    other CPUs (AVX2 laptops)               float32     ``"no"``          float32
    ======================================  ==========  ================  =============

    On MPS autocast is incomplete, so training stays in the weights' dtype; on a CPU half-precision weights are slow
    and lossy, and bf16 autocast pays only where :func:`cpu_bf16_native` (a LoRA step 0.56 s with bf16 autocast,
    0.76 s in fp32 on an AVX-512 BF16 Xeon).
    """
    kind = torch.device(device).type
    if kind == "cuda":
        if cuda_bf16_native(device):
            return Precision(torch.bfloat16, "bf16", torch.bfloat16)
        return Precision(torch.float16, "fp16", torch.float16)
    if kind == "mps":
        return Precision(torch.float16, "no", torch.float16)
    if cpu_bf16_native():
        return Precision(torch.float32, "bf16", torch.bfloat16)
    return Precision(torch.float32, "no", torch.float32)


def pick_dtype(device: torch.device | str) -> torch.dtype:
    """What models load in on ``device``: :attr:`Precision.dtype` of :func:`precision`."""
    return precision(device).dtype


BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
"""``/proc/cpuinfo`` flags of native bfloat16 matrix instructions (AVX-512 BF16, AMX)."""


def cpu_model() -> str:
    """The CPU's model name (``"AMD EPYC 9R14"``), or ``platform.processor()`` where ``/proc/cpuinfo`` is missing."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
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
    return bool(cpu_flags(cpuinfo) & BF16_CPU_FLAGS)


def mixed_precision(device: torch.device | str) -> str:
    """``"bf16"``, ``"fp16"`` or ``"no"`` on ``device``: :attr:`Precision.mixed_precision` of :func:`precision`."""
    return precision(device).mixed_precision


def compute_dtype(device: torch.device | str) -> torch.dtype:
    """dtype matmuls run in on ``device``: :attr:`Precision.compute_dtype` of :func:`precision`."""
    return precision(device).compute_dtype


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
    chosen = precision(device)
    info = DeviceInfo(
        device=device,
        dtype=chosen.dtype,
        mixed_precision=chosen.mixed_precision,
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
