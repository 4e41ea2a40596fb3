"""The challenge's memory probe: peak memory and speed of a few training steps, one fresh process per mode.

The notebook compares LoRA, full fine-tuning and QLoRA on the same batch with the learner's own
configs::

    memory = compare_training_memory(("lora", "full"), batch=batch, lora_config=config)

This module is the probe's public side: it checks the arguments, writes a spec folder
(:func:`helpers.challenge.probe_child.write_probe_spec`) and starts one child per mode, the command of
:mod:`helpers.challenge.probe_child`::

    python -m helpers.challenge.probe_child --mode lora --spec DIR   # prints one JSON line

Each child measures in its own process and records its measurement for the grader
(:mod:`helpers.challenge.probe_records`). The steps run in :func:`helpers.device.mixed_precision`'s choice for this
machine's device, as the challenge's Trainer trains (``TrainingArguments(bf16=info.mixed_precision == "bf16",
fp16=info.mixed_precision == "fp16")``), unless told otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from helpers import processes
from helpers.challenge.modes import MODES, check_mode
from helpers.challenge.probe_child import write_probe_spec
from helpers.device import mixed_precision as precision_on
from helpers.device import pick_device
from helpers.paths import REPO_ROOT

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig

__all__ = ["MODES", "PROBE_TIMEOUT_S", "compare_training_memory", "measure_training_memory"]

PROBE_TIMEOUT_S = 600
"""Default seconds before the probe stops its children (a 2-core CPU measures the three modes in about 30 s)."""
CHILD_MODULE = "helpers.challenge.probe_child"
"""The module each child runs (``python -m``)."""


def _check_configs(mode: str, lora_config: Any, quantization_config: Any) -> None:
    check_mode(mode)
    if mode in ("lora", "qlora"):
        from peft import LoraConfig

        if not isinstance(lora_config, LoraConfig):
            raise ValueError(f"mode {mode!r} trains adapters: pass lora_config=make_lora_config().")
    if mode == "qlora":
        from transformers import BitsAndBytesConfig

        if not isinstance(quantization_config, BitsAndBytesConfig) or not quantization_config.load_in_4bit:
            raise ValueError("mode 'qlora' needs quantization_config=BitsAndBytesConfig(load_in_4bit=True, ...).")


def measure_training_memory(
    mode: str,
    *,
    batch: Mapping[str, torch.Tensor],
    lora_config: LoraConfig | None = None,
    quantization_config: BitsAndBytesConfig | None = None,
    steps: int = 1,
    timeout: float = PROBE_TIMEOUT_S,
    gradient_checkpointing: bool = False,
    mixed_precision: str | None = None,
) -> dict[str, Any]:
    """Peak memory and speed of ``mode``'s training steps on ``batch``, measured in a fresh process.

    Runs ``python -m helpers.challenge.probe_child --mode MODE --spec DIR``. The child loads
    SmolLM2 for ``mode`` from *your* configs: ``full`` = every parameter trainable (fp32);
    ``lora`` = ``get_peft_model(fp32 base, lora_config)``; ``qlora`` = the base loaded with
    ``quantization_config`` (4-bit), ``prepare_model_for_kbit_training``, then the same
    ``lora_config``. It trains with fused AdamW (the Trainer's default) on ``batch``: AdamW's
    state is allocated first (one zero-gradient update: what a first step allocates, without
    its forward and backward pass), then one steady-state step gives the memory peak, then
    ``steps - 1`` more steps are timed. Two real steps gave the same peak (within 2 MB) and
    took 10 s longer for full fine-tuning on a 2-core CPU.

    Gradient checkpointing is off by default, as in the challenge's training runs. ``make bench``
    on 2026-12-03 (2-core AMD EPYC, fp32 under the AVX2 stand-in) on the challenge's batch,
    4 × 99 tokens, adapters on 8 blocks: LoRA 1.16 GiB, full 2.62 GiB (0.44 ×), QLoRA 0.82 GiB.

    Memory is :func:`helpers.memory.peak_memory` around the state allocation and the memory step: on a CPU the
    process's peak resident set size (Linux ``VmHWM``, reset when the steps start), which
    includes the weights, the libraries and data (~0.45 GiB) and everything training allocates
    (gradients, AdamW's two moments, activations, logits); loading is not included. During those
    steps glibc's mmap threshold is fixed at 64 KiB (:mod:`helpers.challenge.allocator`), so every
    freed tensor goes back to the system at once (with glibc's default up to ~0.7 GB of freed
    activations stayed resident and the peak measured the allocator rather than training).
    On CUDA the peak is the torch allocator's. One process per mode keeps one mode's
    allocations out of another's peak.

    Args:
        mode: ``"lora"``, ``"full"`` or ``"qlora"``.
        batch: the collator's output for a few training examples (``input_ids``,
            ``attention_mask``, ``labels``, shape ``(batch, length)``).
        lora_config: the adapters (needed for lora and qlora).
        quantization_config: the 4-bit ``BitsAndBytesConfig`` (needed for qlora).
        steps: training steps in all, at least 1 (the first for the memory peak, the rest timed).
        timeout: seconds before the child is stopped.
        gradient_checkpointing: activation checkpointing in the child.
        mixed_precision: one of :data:`helpers.device.MIXED_PRECISIONS`: ``"bf16"`` or ``"fp16"`` run the steps
            under autocast in that half precision, as the Trainer does with ``bf16=True`` or ``fp16=True``; ``"no"``
            trains in fp32; ``None`` (the default): as the challenge's Trainer trains on this machine,
            :func:`helpers.device.mixed_precision` of :func:`helpers.device.pick_device`. On a 2-core AMD EPYC
            (AVX-512 BF16) on 2026-12-03 the challenge's probe took 18 s with bf16 autocast and 23 s in fp32;
            ``make bench`` measured LoRA at 0.47 x the memory of full fine-tuning with bf16 autocast, 0.44 x in fp32.

    Returns:
        ``{"mode", "peak_bytes", "seconds_per_step", "trainable_params"}`` plus
        ``"baseline_bytes"`` (memory when the steps start: libraries, data, weights),
        ``"cpu_seconds_per_step"``, ``"memory_step_seconds"``, ``"total_params"``,
        ``"batch_size"``, ``"sequence_length"``, ``"steps"``, ``"gradient_checkpointing"``, ``"mixed_precision"``,
        ``"method"`` and ``"pid"`` (the child's process id).

    Raises:
        ValueError: unknown ``mode``, a config the mode needs is missing, a bad ``batch``, ``steps`` below 1
            or a ``mixed_precision`` outside :data:`helpers.device.MIXED_PRECISIONS`.
        RuntimeError: the child failed, was killed or timed out; the message holds its last
            stderr lines.
    """
    return compare_training_memory((mode,), batch=batch, lora_config=lora_config,
                                   quantization_config=quantization_config, steps=steps, timeout=timeout,
                                   gradient_checkpointing=gradient_checkpointing, threads=None,
                                   mixed_precision=mixed_precision)[mode]


def compare_training_memory(
    modes: Sequence[str] = MODES,
    *,
    batch: Mapping[str, torch.Tensor],
    lora_config: LoraConfig | None = None,
    quantization_config: BitsAndBytesConfig | None = None,
    steps: int = 1,
    timeout: float = PROBE_TIMEOUT_S,
    gradient_checkpointing: bool = False,
    threads: int | None = 1,
    mixed_precision: str | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`measure_training_memory` for several modes at once: one process per mode, side by side.

    The children start together, each limited to ``threads`` CPU threads (``OMP_NUM_THREADS``),
    so three modes take about as long as the slowest one alone instead of the sum (27 s instead
    of 42 s on a 2-core CPU). A process's peak resident memory is its own, so running side by
    side does not change the peaks; ``seconds_per_step`` is then a one-thread time on a shared
    CPU, useful only to compare the modes with each other.

    Args:
        modes: any of :data:`MODES`, each once.
        batch, lora_config, quantization_config, steps, timeout, gradient_checkpointing, mixed_precision: as in
            :func:`measure_training_memory` (the same batch for every mode).
        threads: CPU threads per child; ``None`` leaves torch's default.

    Returns:
        ``{mode: measurement}`` in the order of ``modes``.

    Raises:
        ValueError: an unknown or repeated mode, a missing config, a bad batch, ``steps`` or ``mixed_precision``.
        RuntimeError: a child failed or timed out (the others are stopped); the message names it.
    """
    modes = tuple(modes)
    if len(set(modes)) != len(modes) or not modes:
        raise ValueError(f"modes={modes!r}: give each mode once.")
    for mode in modes:
        _check_configs(mode, lora_config, quantization_config)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int of at least 1, got {steps!r}")
    if mixed_precision is None:
        mixed_precision = precision_on(pick_device())
    env = _child_env()
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="memory-probe-") as tmp:
        spec = write_probe_spec(tmp, batch=batch, lora_config=lora_config, quantization_config=quantization_config,
                                mixed_precision=mixed_precision)
        children = {mode: processes.start(_memory_command(mode, spec, steps, gradient_checkpointing),
                                          cwd=REPO_ROOT, env=env)
                    for mode in modes}
        deadline = time.monotonic() + timeout
        try:
            for mode, child in children.items():
                try:
                    stdout, stderr = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise RuntimeError(f"measuring {mode} training memory took longer than {timeout:.0f} s and "
                                       "was stopped.") from None
                results[mode] = _parse_measurement(mode, child.returncode, stdout, stderr)
        finally:
            for child in children.values():  # after a failure or a timeout: stop the others, with their children
                processes.stop(child)
    return results


def _memory_command(mode: str, spec: Path, steps: int, gradient_checkpointing: bool) -> list[str]:
    command = [sys.executable, "-m", CHILD_MODULE, "--mode", mode,
               "--spec", str(spec), "--steps", str(steps)]
    if gradient_checkpointing:
        command.append("--gradient-checkpointing")
    return command


def _child_env() -> dict[str, str]:
    """This environment without the variables that would make a child join a distributed run."""
    return {k: v for k, v in os.environ.items()
            if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}


def _parse_measurement(mode: str, returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    if returncode != 0:
        how = f"was stopped by signal {-returncode}" if returncode < 0 else f"failed (exit code {returncode})"
        raise RuntimeError(f"measuring {mode} training memory {how}.{_tail(stderr)}")
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"measuring {mode} training memory printed no result.{_tail(stderr)}")


def _tail(stderr: str | bytes | None, lines: int = 12) -> str:
    if not stderr:
        return ""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    return "\nLast lines of its error output:\n" + "\n".join(text.strip().splitlines()[-lines:])
