"""The memory probe's child: one fresh process that measures one training mode and records what it measured.

:mod:`helpers.challenge.memory_probe` writes a spec folder (:func:`write_probe_spec`: the batch and the learner's
configs) and starts this module's command, one process per mode::

    python -m helpers.challenge.probe_child --mode lora --spec DIR   # prints one JSON line

The child loads SmolLM2 for the mode (:func:`helpers.challenge.modes.prepare_for_mode`), measures the peak memory
of one steady training step and times the rest, records the measurement where the grader reads it
(:mod:`helpers.challenge.probe_records`; the writer is private to this process) and prints it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from helpers.challenge.allocator import MMAP_THRESHOLD_BYTES, restore_heap_reuse, set_mmap_threshold
from helpers.challenge.modes import MODES, prepare_for_mode
from helpers.challenge.probe_records import KEEP_RECORDS, record_path
from helpers.device import DEFAULT_SEED, MIXED_PRECISIONS, autocast_dtype, pick_device, seed_everything
from helpers.memory import peak_memory
from helpers.paths import MEMORY_RECORDS_DIR

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig

# --------------------------------------------------------------------------- the spec folder

BATCH_FILE, LORA_DIR, QUANTIZATION_FILE = "batch.pt", "lora", "quantization_config.json"
"""What a probe's spec folder holds: the batch (``torch.save``), the ``LoraConfig``
(``save_pretrained``) and the ``BitsAndBytesConfig`` (``to_json_file``)."""
PRECISION_FILE = "mixed_precision.txt"
"""The spec's mixed precision, one of :data:`helpers.device.MIXED_PRECISIONS`: the steps run under autocast in
:func:`helpers.device.autocast_dtype` of it (none for ``"no"``)."""


def write_probe_spec(folder: str | Path, *, batch: Mapping[str, torch.Tensor], lora_config: LoraConfig | None,
                     quantization_config: BitsAndBytesConfig | None = None, mixed_precision: str = "no") -> Path:
    """Save what a memory child needs into ``folder``: the batch, the learner's configs and the mixed precision.

    Every tensor of ``batch`` is kept (also ``logits_to_keep`` and ``shift_labels`` of
    :func:`helpers.challenge.training.answer_logits_only`), so the child's model gets what the Trainer's gets.

    Args:
        folder: the spec folder (created).
        batch: the collator's output (``input_ids``, ``attention_mask``, ``labels`` of shape ``(batch, length)``).
        lora_config: the adapters (lora, qlora), or ``None``.
        quantization_config: the 4-bit config (qlora), or ``None``.
        mixed_precision: one of :data:`helpers.device.MIXED_PRECISIONS` (``"bf16"``, ``"fp16"``, ``"no"``).

    Returns:
        ``folder`` as a ``Path``.

    Raises:
        ValueError: ``batch`` lacks ``input_ids``, ``attention_mask`` or ``labels``, or they are not
            2-D tensors of one shape; ``mixed_precision`` is not one of :data:`helpers.device.MIXED_PRECISIONS`.
    """
    if mixed_precision not in MIXED_PRECISIONS:
        raise ValueError(f"mixed_precision={mixed_precision!r}: use one of {MIXED_PRECISIONS} "
                         "(helpers.device.mixed_precision's vocabulary).")
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
    (folder / PRECISION_FILE).write_text(mixed_precision)
    if lora_config is not None:
        lora_config.save_pretrained(str(folder / LORA_DIR))
    if quantization_config is not None:
        (folder / QUANTIZATION_FILE).write_text(json.dumps(quantization_config.to_dict()))
    return folder


def spec_mixed_precision(spec: Path) -> str:
    """The mixed precision :func:`write_probe_spec` saved in ``spec``.

    Raises:
        FileNotFoundError: ``spec`` has no :data:`PRECISION_FILE`.
        ValueError: it holds something else than one of :data:`helpers.device.MIXED_PRECISIONS`.
    """
    value = (Path(spec) / PRECISION_FILE).read_text().strip()
    if value not in MIXED_PRECISIONS:
        raise ValueError(f"{spec / PRECISION_FILE} holds {value!r}, not one of {MIXED_PRECISIONS}.")
    return value


# --------------------------------------------------------------------------- the measurement


@dataclass(frozen=True)
class StepMeasurement:
    """What the child measured in its own process (printed and recorded as a dict of these fields)."""

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
    """One of :data:`helpers.device.MIXED_PRECISIONS`: the steps ran under autocast in that half precision, or
    (``"no"``) in the weights' fp32."""
    method: str
    pid: int
    """The measuring process's id: proof that each mode ran in a process of its own."""


def _load_for_mode(mode: str, spec: Path, device: torch.device, gradient_checkpointing: bool):
    """The model ``mode`` trains, built from the learner's configs in ``spec``."""
    from transformers import AutoModelForCausalLM

    from helpers.challenge.training import set_cpu_4bit_repacking
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
    model = prepare_for_mode(model, mode, lora_config, gradient_checkpointing=gradient_checkpointing)
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


def measure_here(mode: str, spec: Path, steps: int, gradient_checkpointing: bool) -> StepMeasurement:
    """Measure ``mode``'s training in this process: peak memory of one steady step, then ``steps - 1`` timed steps.

    Raises:
        ValueError: unknown ``mode`` or a spec without its mixed precision.
    """
    from helpers.challenge.training import count_parameters

    strict = set_mmap_threshold(MMAP_THRESHOLD_BYTES)  # before the model and the data are allocated
    from helpers.env import quiet_libraries

    quiet_libraries(with_datasets=False)  # datasets is never used here; importing it adds 85 MiB to every peak
    seed_everything(DEFAULT_SEED)
    device = pick_device()
    mixed = spec_mixed_precision(spec)
    autocast = autocast_dtype(mixed)
    batch = {k: v.to(device) for k, v in torch.load(spec / BATCH_FILE).items()}
    model = _load_for_mode(mode, spec, device, gradient_checkpointing)
    trainable, total = count_parameters(model)
    params = [p for p in model.parameters() if p.requires_grad]
    try:  # the Trainer's default optimiser is adamw_torch_fused
        optimizer = torch.optim.AdamW(params, lr=1e-5, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(params, lr=1e-5)
    model.train()

    def timed_step() -> tuple[float, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        with torch.autocast(device.type, dtype=autocast or torch.float32, enabled=autocast is not None):
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
        restore_heap_reuse()
    timed = [timed_step() for _ in range(steps - 1)] or [steady]  # steps=1: the memory step's time
    times, cpu_times = zip(*timed, strict=True)
    return StepMeasurement(
        mode=mode, peak_bytes=int(memory.peak_bytes), baseline_bytes=int(memory.baseline_bytes),
        seconds_per_step=round(statistics.median(times), 3),
        cpu_seconds_per_step=round(statistics.median(cpu_times), 3),
        memory_step_seconds=round(steady[0], 3), trainable_params=trainable, total_params=total,
        batch_size=int(batch["input_ids"].shape[0]), sequence_length=int(batch["input_ids"].shape[1]), steps=steps,
        gradient_checkpointing=gradient_checkpointing, mixed_precision=mixed,
        method=memory.method + (f", glibc mmap threshold {MMAP_THRESHOLD_BYTES} B" if strict else ""),
        pid=os.getpid(),
    )


def _record_measurement(measurement: dict[str, Any], folder: Path | None = None) -> Path | None:
    """Write ``measurement`` where the grader will look for it, keeping the newest :data:`KEEP_RECORDS`.

    Private: only this module's command (the measuring process itself) calls it. The records are evidence against
    numbers typed into a notebook, not proof: a notebook can still write such a file
    (:mod:`helpers.challenge.probe_records`).

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


# --------------------------------------------------------------------------- CLI


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the memory child (``python -m helpers.challenge.probe_child``); prints one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m helpers.challenge.probe_child",
                                     description="measure peak memory of a few training steps; prints one JSON line")
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--spec", type=Path, required=True, help="folder written by write_probe_spec")
    parser.add_argument("--steps", type=_positive_int, default=1, help="1 for the memory peak, then timed steps")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations (less memory)")
    args = parser.parse_args(argv)
    result = asdict(measure_here(args.mode, args.spec, args.steps, args.gradient_checkpointing))
    _record_measurement(result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
