"""The challenge's memory probe: peak memory and speed of a few training steps, one fresh process per mode.

The notebook compares LoRA, full fine-tuning and QLoRA on the same batch with the learner's own
configs::

    memory = compare_training_memory(("lora", "full"), batch=batch, lora_config=config)

Each mode runs in a child process of its own (this module's command)::

    python -m helpers.challenge.memory_probe --mode lora --spec DIR   # prints one JSON line
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from helpers import processes
from helpers.challenge.training import count_parameters, set_cpu_4bit_repacking
from helpers.device import DEFAULT_SEED, pick_device, seed_everything
from helpers.device import mixed_precision as precision_for
from helpers.memory import peak_memory
from helpers.paths import MEMORY_RECORDS_DIR, REPO_ROOT

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig, PreTrainedModel

MODES: tuple[str, ...] = ("lora", "full", "qlora")
"""Training strategies :func:`measure_training_memory` compares."""
KEEP_RECORDS = 60
"""Measurement records kept in :data:`helpers.paths.MEMORY_RECORDS_DIR` (the newest)."""
MMAP_THRESHOLD_BYTES = 65536
"""glibc mmap threshold while the memory child measures its peak (see :func:`measure_training_memory`)."""


@dataclass(frozen=True)
class StepMeasurement:
    """What the ``memory`` command measured in its own process."""

    mode: str
    peak_bytes: int
    baseline_bytes: int
    seconds_per_step: float
    cpu_seconds_per_step: float
    memory_step_seconds: float
    trainable_params: int
    total_params: int
    batch_size: int
    sequence_length: int
    steps: int
    gradient_checkpointing: bool
    mixed_precision: str
    """``"bf16"``: the steps ran under bf16 autocast; ``"no"``: fp32."""
    method: str
    pid: int
    """The measuring process's id: proof that each mode ran in a process of its own."""


BATCH_FILE, LORA_DIR, QUANTIZATION_FILE = "batch.pt", "lora", "quantization_config.json"
"""What a probe's spec folder holds: the batch (``torch.save``), the ``LoraConfig``
(``save_pretrained``) and the ``BitsAndBytesConfig`` (``to_json_file``)."""
BF16_FILE = "bf16-autocast"
"""Present in a spec folder when the steps run under bf16 autocast (``mixed_precision="bf16"``)."""


def _prepare_for_mode(model: PreTrainedModel, mode: str, lora_config: LoraConfig | None, *,
                     gradient_checkpointing: bool = False) -> PreTrainedModel:
    """Make ``model`` trainable the ``mode`` way, for the probe's children (and the grader's reference solution).

    Not for notebooks: the challenge has the learner write ``get_peft_model`` and ``prepare_model_for_kbit_training``.

    * ``"lora"``: ``get_peft_model(model, lora_config)``: the base frozen, adapters trainable.
    * ``"qlora"``: ``prepare_model_for_kbit_training`` (norms and embeddings to fp32, base frozen), then the
      same adapters.
    * ``"full"``: every parameter trainable (``lora_config`` is ignored).

    Gradient (activation) checkpointing keeps only each decoder layer's input in the forward pass and
    recomputes the rest in the backward pass (non-reentrant); off by default: on a CPU a step is about
    40 % slower, and a 135M model fits in RAM anyway.

    Returns:
        A ``PeftModel`` (lora, qlora) or ``model`` itself (full).

    Raises:
        ValueError: unknown ``mode``, or no ``lora_config`` for lora/qlora.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    checkpointing = {"use_reentrant": False}
    if mode == "full":
        model.requires_grad_(True)
        if gradient_checkpointing:
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=checkpointing)
        return model
    if lora_config is None:
        raise ValueError(f"mode={mode!r} needs a LoraConfig.")
    from peft import get_peft_model, prepare_model_for_kbit_training

    with warnings.catch_warnings():  # peft 0.21 calls transformers' deprecated gradient-checkpointing aliases
        warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*deprecated.*")
        if mode == "qlora":
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing,
                                                    gradient_checkpointing_kwargs=checkpointing)
        elif gradient_checkpointing:
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=checkpointing)
        return get_peft_model(model, lora_config)


def _load_for_mode(mode: str, spec: Path, device: torch.device, gradient_checkpointing: bool):
    """The model ``mode`` trains, built from the learner's configs in ``spec``."""
    from transformers import AutoModelForCausalLM

    from helpers.env import progress_bars_off
    from helpers.models import CHAT_MODEL_ID

    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if mode == "qlora":
        from transformers import BitsAndBytesConfig

        config = BitsAndBytesConfig.from_dict(json.loads((spec / QUANTIZATION_FILE).read_text()))
        kwargs.update(quantization_config=config, device_map={"": device.type})
    with progress_bars_off(with_datasets=False):
        model = AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, **kwargs)
    if mode != "qlora":
        model = model.to(device)
    lora_config = None
    if mode != "full":  # peft imports bitsandbytes and parts of torch's compiler: 3 s the full child need not wait
        from peft import LoraConfig

        lora_config = LoraConfig.from_pretrained(str(spec / LORA_DIR))
    model = _prepare_for_mode(model, mode, lora_config, gradient_checkpointing=gradient_checkpointing)
    set_cpu_4bit_repacking(model, False)
    return model


def _allocate_optimizer_state(optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter]) -> None:
    """Create AdamW's state for ``params`` as a first training step would, without its forward and backward pass.

    One update with zero gradients: both moments are allocated and stay zero, weight decay scales the weights by
    ``1 - lr * weight_decay`` (1 - 1e-7 here). The gradients are freed again.
    """
    for param in params:
        param.grad = torch.zeros_like(param)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _measure_here(mode: str, spec: Path, steps: int, gradient_checkpointing: bool) -> StepMeasurement:
    """Measure ``mode``'s training in this process: peak memory of one steady step, then ``steps - 1`` timed steps."""
    strict = _set_mmap_threshold(MMAP_THRESHOLD_BYTES)  # before the model and the data are allocated
    from helpers.env import quiet_libraries

    quiet_libraries(with_datasets=False)  # datasets is never used here; importing it adds 85 MiB to every peak
    seed_everything(DEFAULT_SEED)
    device = pick_device()
    batch = {k: v.to(device) for k, v in torch.load(spec / BATCH_FILE).items()}
    model = _load_for_mode(mode, spec, device, gradient_checkpointing)
    autocast = (spec / BF16_FILE).exists()
    trainable, total = count_parameters(model)
    params = [p for p in model.parameters() if p.requires_grad]
    try:  # the Trainer's default optimiser is adamw_torch_fused
        optimizer = torch.optim.AdamW(params, lr=1e-5, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(params, lr=1e-5)
    model.train()

    def timed_step() -> tuple[float, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - started, time.process_time() - cpu_started

    gc.collect()
    with peak_memory(device) as memory:
        _allocate_optimizer_state(optimizer, params)  # what a first step would allocate, in a fraction of its time
        steady = timed_step()  # a steady-state step: weights, gradients, optimiser state and activations
    if strict:  # glibc's own setting once large blocks have been freed: fast reuse of the heap
        _set_mmap_threshold(_GLIBC_MAX_MMAP_THRESHOLD, trim_threshold=2 * _GLIBC_MAX_MMAP_THRESHOLD)
    timed = [timed_step() for _ in range(steps - 1)] or [steady]  # steps=1: the memory step's time
    times, cpu_times = zip(*timed, strict=True)
    return StepMeasurement(
        mode=mode, peak_bytes=int(memory.peak_bytes), baseline_bytes=int(memory.baseline_bytes),
        seconds_per_step=round(statistics.median(times), 3),
        cpu_seconds_per_step=round(statistics.median(cpu_times), 3),
        memory_step_seconds=round(steady[0], 3), trainable_params=trainable, total_params=total,
        batch_size=int(batch["input_ids"].shape[0]), sequence_length=int(batch["input_ids"].shape[1]), steps=steps,
        gradient_checkpointing=gradient_checkpointing, mixed_precision="bf16" if autocast else "no",
        method=memory.method + (f", glibc mmap threshold {MMAP_THRESHOLD_BYTES} B" if strict else ""),
        pid=os.getpid(),
    )


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers (glibc malloc.h)
_GLIBC_MAX_MMAP_THRESHOLD = 32 * 2**20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems


def _set_mmap_threshold(nbytes: int, *, trim_threshold: int | None = None) -> bool:
    """Set glibc's mmap threshold and trim the heap.

    Blocks of ``nbytes`` and more then get their own memory mapping, handed back to the
    system as soon as they are freed.

    Returns:
        Whether it worked (``False`` off Linux/glibc, e.g. on macOS, where memory is measured
        with the default allocator).
    """
    import ctypes

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        done = libc.mallopt(_M_MMAP_THRESHOLD, nbytes) == 1
        if trim_threshold is not None:
            libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return done


def training_precision() -> str:
    """``"bf16"`` where :func:`helpers.device.mixed_precision` trains with bf16 autocast, else ``"no"`` (fp32).

    The challenge's ``TrainingArguments(bf16=info.mixed_precision == "bf16", ...)`` train so, and the memory probe
    measures the same way unless told otherwise. On a 2-core AMD EPYC (AVX-512 BF16) on 2026-12-03 the challenge's
    probe took 18 s with bf16 autocast and 23 s in fp32; ``make bench`` measured LoRA at 0.47 x the memory of full
    fine-tuning with bf16 autocast and 0.44 x in fp32. fp16 (older GPUs) is measured as fp32: the probe's autocast is
    bf16 only.
    """
    return "bf16" if precision_for(pick_device()) == "bf16" else "no"


def write_probe_spec(folder: str | Path, *, batch: Mapping[str, torch.Tensor], lora_config: LoraConfig | None,
                     quantization_config: BitsAndBytesConfig | None = None, mixed_precision: str = "no") -> Path:
    """Save what a memory child needs into ``folder``: the batch and the learner's configs.

    Every tensor of ``batch`` is kept (also ``logits_to_keep`` and ``shift_labels`` of
    :func:`helpers.challenge.training.answer_logits_only`), so the child's model gets what the Trainer's gets.

    Raises:
        ValueError: ``batch`` lacks ``input_ids``, ``attention_mask`` or ``labels``, or they are not
            2-D tensors of one shape; ``mixed_precision`` is not ``"no"`` or ``"bf16"``.
    """
    if mixed_precision not in ("no", "bf16"):
        raise ValueError(f"mixed_precision={mixed_precision!r}: use 'no' (fp32) or 'bf16' (bf16 autocast).")
    names = ("input_ids", "attention_mask", "labels")
    if not isinstance(batch, Mapping) or not all(isinstance(batch.get(n), torch.Tensor) for n in names):
        raise ValueError("batch must be the collator's output: a dict with input_ids, attention_mask and labels "
                         "tensors, e.g. collator([dataset['train'][i] for i in range(4)]).")
    shapes = {tuple(batch[n].shape) for n in names}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"batch tensors must share one (batch, length) shape, got {sorted(shapes)}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({n: t.detach().cpu() for n, t in batch.items() if isinstance(t, torch.Tensor)}, folder / BATCH_FILE)
    if mixed_precision == "bf16":
        (folder / BF16_FILE).touch()
    if lora_config is not None:
        lora_config.save_pretrained(str(folder / LORA_DIR))
    if quantization_config is not None:
        (folder / QUANTIZATION_FILE).write_text(json.dumps(quantization_config.to_dict()))
    return folder


def _check_configs(mode: str, lora_config: Any, quantization_config: Any) -> None:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
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
    timeout: float = 600,
    gradient_checkpointing: bool = False,
    mixed_precision: str | None = None,
) -> dict[str, Any]:
    """Peak memory and speed of ``mode``'s training steps on ``batch``, measured in a fresh process.

    Runs ``python -m helpers.challenge.memory_probe --mode MODE --spec DIR``. The child loads
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
    steps glibc's mmap threshold is fixed at :data:`MMAP_THRESHOLD_BYTES` (64 KiB), so every
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
        mixed_precision: ``"bf16"`` runs the steps under bf16 autocast, as the Trainer does with ``bf16=True``;
            ``"no"`` trains in fp32; ``None`` (the default): as the challenge's Trainer trains on this machine,
            :func:`training_precision`.

    Returns:
        ``{"mode", "peak_bytes", "seconds_per_step", "trainable_params"}`` plus
        ``"baseline_bytes"`` (memory when the steps start: libraries, data, weights),
        ``"cpu_seconds_per_step"``, ``"memory_step_seconds"``, ``"total_params"``,
        ``"batch_size"``, ``"sequence_length"``, ``"steps"``, ``"gradient_checkpointing"``, ``"mixed_precision"``,
        ``"method"`` and ``"pid"`` (the child's process id).

    Raises:
        ValueError: unknown ``mode``, a config the mode needs is missing, a bad ``batch`` or
            ``steps`` below 1.
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
    timeout: float = 600,
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
        ValueError: an unknown or repeated mode, a missing config, a bad batch or ``steps``.
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
        mixed_precision = training_precision()
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
    command = [sys.executable, "-m", "helpers.challenge.memory_probe", "--mode", mode,
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


# --------------------------------------------------------------------------- CLI


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the memory child (``python -m helpers.challenge.memory_probe``); prints one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m helpers.challenge.memory_probe",
                                     description="measure peak memory of a few training steps; prints one JSON line")
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--spec", type=Path, required=True, help="folder written by write_probe_spec")
    parser.add_argument("--steps", type=_positive_int, default=1, help="1 for the memory peak, then timed steps")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations (less memory)")
    args = parser.parse_args(argv)
    result = _measure_here(args.mode, args.spec, args.steps, args.gradient_checkpointing)
    _record_measurement(asdict(result))
    print(json.dumps(asdict(result)))
    return 0


def record_path(pid: int, mode: str, folder: Path | None = None) -> Path:
    """Where the measurement of ``mode`` by process ``pid`` is recorded (default folder: ``MEMORY_RECORDS_DIR``)."""
    return (folder or MEMORY_RECORDS_DIR) / f"{pid}-{mode}.json"


def _record_measurement(measurement: dict[str, Any], folder: Path | None = None) -> Path | None:
    """Write ``measurement`` where the grader will look for it, keeping the newest :data:`KEEP_RECORDS`.

    Private: only this module's command (the measuring process itself) calls it. The records are evidence against
    numbers typed into a notebook, not proof: a notebook can still write such a file
    (:data:`helpers.paths.MEMORY_RECORDS_DIR`).

    Returns:
        The record's path, or ``None`` when the folder is not writable (the measurement still prints).
    """
    folder = folder or MEMORY_RECORDS_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = record_path(measurement["pid"], measurement["mode"], folder)
        path.write_text(json.dumps(measurement))
        for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-KEEP_RECORDS]:
            old.unlink(missing_ok=True)
    except OSError:
        return None
    return path


def read_record(pid: Any, mode: str, folder: Path | None = None) -> dict[str, Any] | None:
    """The measurement process ``pid`` recorded for ``mode``, or ``None`` if there is none (or it is unreadable)."""
    if isinstance(pid, bool) or not isinstance(pid, int):
        return None
    try:
        return json.loads(record_path(pid, mode, folder).read_text())
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    raise SystemExit(main())
