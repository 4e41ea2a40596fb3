"""The LoRA challenge's training path: tokenize, collate, configure, train, evaluate, measure.

One implementation for the challenge notebook (04 · LoRA challenge) and the command line::

    python -m helpers.lora_training train [--epochs 3] [--limit 100] [--mode qlora] [--batch-size 4]
    accelerate launch --cpu --num_processes 2 --num_machines 1 --mixed_precision no --dynamo_backend no \\
        -m helpers.lora_training train --max-steps 2 --limit 32 --output-dir /tmp/adapter --results /tmp/r.json
    python -m helpers.lora_training memory --mode lora --steps 3 --batch-size 8   # one JSON line

From a notebook::

    from helpers.lora_training import build_splits, data_collator, default_lora_config, default_training_arguments
    data = build_splits(tokenizer, limit=None)              # input_ids / attention_mask / labels
    model = get_peft_model(base, default_lora_config())
    args = default_training_arguments("outputs/challenge/run", num_train_epochs=3)
    trainer = Trainer(model=model, args=args, train_dataset=data["train"], eval_dataset=data["validation"],
                      data_collator=data_collator(tokenizer), processing_class=tokenizer)

The model learns only the answer: every prompt token is labelled ``-100`` and the answer's
end-of-turn token ``<|im_end|>`` is kept as a label, so the fine-tuned model stops after the JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from helpers.device import DEFAULT_SEED, pick_device, pick_dtype, seed_everything
from helpers.extraction_task import load_splits, score, to_messages
from helpers.grading.registry import REPO_ROOT
from helpers.memory import peak_memory

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from peft import LoraConfig
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainingArguments

OUTPUT_DIR: Path = REPO_ROOT / "outputs" / "challenge"
"""Everything the challenge writes goes below this folder."""
ADAPTER_DIR: Path = OUTPUT_DIR / "adapter"
"""Where the LoRA adapter is saved (``adapter_config.json`` + ``adapter_model.safetensors``)."""
QLORA_ADAPTER_DIR: Path = OUTPUT_DIR / "adapter-qlora"
"""Where a QLoRA run saves its adapter, so it does not overwrite the LoRA one."""
FULL_MODEL_DIR: Path = OUTPUT_DIR / "full-model"
"""Where the full fine-tuning comparison saves its whole model (to measure the checkpoint size)."""
RESULTS_PATH: Path = OUTPUT_DIR / "results.json"
"""The challenge's measurements (schema in :mod:`helpers.challenge_results`)."""

IGNORE_INDEX = -100
"""Label value that the cross-entropy loss skips (``torch.nn.CrossEntropyLoss(ignore_index=-100)``)."""
MODES: tuple[str, ...] = ("lora", "full", "qlora")
"""Training strategies :func:`measure_training_memory` compares."""

LEARNING_RATE = 4e-3
"""Peak learning rate of the LoRA/QLoRA runs (AdamW, linear decay after 10 % warm-up).

High for LoRA on purpose: 3 epochs of 100 tickets are only 75 steps at batch 4. Measured with the
top-12-block adapters, 100 tickets, 3 epochs, validation exact match: 53 % at 2e-3 and batch 4,
72 % at 2e-3 and batch 2 (150 steps, 10 % slower), 73 % at 4e-3 and batch 4. (All-layer LoRA,
160 tickets, 3 epochs, validation exact match: 70 % at batch 8 and 1e-3, 75 % at batch 8 and
2e-3, 90 % at batch 4 and 2e-3; the field still wrong was mostly ``urgent``.)"""
FULL_LEARNING_RATE = 1e-4
"""Peak learning rate of full fine-tuning: every weight moves, so 20 times smaller than LoRA's."""
TARGET_MODULES: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""The seven linear layers of a Llama-style decoder block (attention and MLP), SmolLM2's names."""
ADAPTED_LAYERS: tuple[int, ...] = tuple(range(18, 30))
"""Decoder blocks that get adapters: the top 12 of SmolLM2-135M's 30.

Backpropagation stops below the lowest adapted block, so a CPU step is ~40 % faster than with
adapters in all 30 (0.93 s instead of 1.45 s at batch 4 × 94 tokens, bf16 autocast) and the
activations of the 18 frozen blocks are not kept for the backward pass. On a GPU, where the
step is cheap anyway, ``layers_to_transform=None`` adapts every block."""
TRAIN_BATCH_SIZE = 4
"""Per-device training batch on every device type. On a CPU the cost per example hardly depends
on the batch, so 4 gives twice the optimiser steps of 8 for the same time (and learned more)."""
LOGGING_STEPS = 5
"""Log the training loss every 5 optimiser steps: 24 points for 3 epochs of 160 tickets at batch 4."""
MAX_NEW_TOKENS = 34
"""Generation budget of an answer: the canonical answers are 23-33 tokens including ``<|im_end|>``
(all 400 tickets), so 34 leaves one spare and stops a rambling base model early."""
GENERATION_BATCH_SIZE = 64
"""Prompts per ``generate`` call. On a 2-core CPU the 60 validation tickets took 21 s in batches of
16, 17 s in batches of 32, 14 s in one batch of 64 and 9 s with bf16 autocast on top."""
EVALUATION_BATCH_SIZE = GENERATION_BATCH_SIZE
MMAP_THRESHOLD_BYTES = 65536
"""glibc mmap threshold while the memory child measures its peak (see :func:`measure_training_memory`)."""


# ----------------------------------------------------------------------------- data


def _token_ids(encoded: Any) -> list[int]:
    """``apply_chat_template(tokenize=True)`` output as a flat list of ids.

    transformers 5 returns a ``BatchEncoding`` (``return_dict=True`` is the default) where 4.x
    returned a list; both are accepted here.
    """
    if isinstance(encoded, Mapping):
        encoded = encoded["input_ids"]
    ids = list(encoded.tolist() if hasattr(encoded, "tolist") else encoded)
    if ids and isinstance(ids[0], list):  # a batch of one conversation
        if len(ids) != 1:
            raise ValueError(f"expected one conversation, got {len(ids)}")
        ids = ids[0]
    return [int(i) for i in ids]


def tokenize_example(row: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase) -> dict[str, list[int]]:
    """Token ids and loss labels of one ticket, for causal-LM fine-tuning.

    The chat template is applied twice: to the prompt (system + user + the generation
    prompt ``<|im_start|>assistant\\n``) and to the whole chat with the answer
    (``to_messages(row["message"], row)``). The answer tokens are what follows the prompt,
    up to and including the end-of-turn token (``tokenizer.eos_token``, ``<|im_end|>`` =
    id 2 for SmolLM2); the template's newline after it is dropped.

    Args:
        row: a ticket with ``"message"`` and the four record fields (a dataset row).
        tokenizer: the chat model's tokenizer (with a chat template and an EOS token).

    Returns:
        ``{"input_ids", "attention_mask", "labels"}``, three lists of the same length
        (about 90 tokens): ``labels`` is :data:`IGNORE_INDEX` on every prompt token and
        equals ``input_ids`` on the answer tokens, the final ``<|im_end|>`` included.

    Raises:
        ValueError: the record holds a value outside the task's allowed values, the
            prompt's tokens are not a prefix of the full chat's, or the answer has no
            end-of-turn token.
    """
    prompt = _token_ids(tokenizer.apply_chat_template(
        to_messages(row["message"]), add_generation_prompt=True, tokenize=True, return_dict=False))
    full = _token_ids(tokenizer.apply_chat_template(
        to_messages(row["message"], row), tokenize=True, return_dict=False))
    if full[: len(prompt)] != prompt:
        raise ValueError("the prompt's tokens are not a prefix of the full chat's: cannot mask the prompt.")
    answer = full[len(prompt):]
    end = tokenizer.eos_token_id
    if end is None or end not in answer:
        raise ValueError(f"the answer has no end-of-turn token ({tokenizer.eos_token!r}) in {answer}.")
    answer = answer[: answer.index(end) + 1]
    input_ids = prompt + answer
    return {
        "input_ids": input_ids,
        "attention_mask": [1] * len(input_ids),
        "labels": [IGNORE_INDEX] * len(prompt) + answer,
    }


def _first(dataset: Dataset, limit: int | None) -> Dataset:
    if limit is None:
        return dataset
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    return dataset.select(range(min(limit, len(dataset))))


@contextlib.contextmanager
def _datasets_bars_off() -> Iterator[None]:
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # "Map: 100%" bars for 300 short rows are noise
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def build_splits(
    tokenizer: PreTrainedTokenizerBase,
    splits: Sequence[str] = ("train", "validation"),
    *,
    limit: int | None = None,
    data_dir: str | Path | None = None,
) -> DatasetDict:
    """Load the ticket splits and tokenize them with :func:`tokenize_example`.

    Args:
        tokenizer: the chat model's tokenizer.
        splits: split names (``"train"``, ``"validation"``, ``"test"``).
        limit: keep only the first ``limit`` tickets of each split (``None``: all).
        data_dir: folder of the ``<split>.jsonl`` files (default: the repository's).

    Returns:
        A ``DatasetDict`` whose splits have exactly the columns ``input_ids``,
        ``attention_mask`` and ``labels`` (lists of ints, unpadded).

    Raises:
        ValueError: unknown split name or a bad ``limit``.
        FileNotFoundError: a split file is missing.
    """
    raw = load_splits(tuple(splits), data_dir)
    with _datasets_bars_off():
        for name in raw:
            raw[name] = _first(raw[name], limit).map(
                tokenize_example, fn_kwargs={"tokenizer": tokenizer}, remove_columns=raw[name].column_names
            )
    return raw


def data_collator(tokenizer: PreTrainedTokenizerBase):
    """A collator that pads a batch without touching the labels of real tokens.

    ``DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100)`` pads ``input_ids`` with
    the pad id, ``attention_mask`` with 0 and ``labels`` with -100, to the longest example
    of the batch, and keeps every existing label. (Despite its name it works for decoder-only
    models: it only pads the three columns the dataset provides.)

    Why not ``DataCollatorForLanguageModeling(tokenizer, mlm=False)``? It rebuilds the labels
    from ``input_ids`` and sets *every* token equal to the pad id to -100. SmolLM2's pad token
    is its end-of-turn/EOS token ``<|im_end|>`` (id 2), so the real EOS after each answer would
    get label -100: the model never learns to stop and keeps generating after the JSON. It would
    also train on the prompt, which we masked on purpose.

    Args:
        tokenizer: the tokenizer (its ``pad_token_id`` and ``padding_side`` are used).

    Returns:
        A ``DataCollatorForSeq2Seq`` returning ``torch.long`` tensors of shape ``(batch, longest)``.

    Raises:
        ValueError: the tokenizer has no pad token.
    """
    from transformers import DataCollatorForSeq2Seq

    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token; set tokenizer.pad_token = tokenizer.eos_token first.")
    return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=IGNORE_INDEX, return_tensors="pt")


# ------------------------------------------------------------------ configuration


def default_lora_config(**overrides: Any) -> LoraConfig:
    """The challenge's LoRA configuration (``task_type="CAUSAL_LM"``).

    * ``r=16``, ``lora_alpha=32`` (scale alpha/r = 2): enough capacity to learn the label
      vocabulary ("earbuds" → ``headphones``) and the exact output format within 3 short epochs.
    * ``target_modules``: the seven projections (:data:`TARGET_MODULES`, attention and MLP, not
      ``lm_head``) of the top 12 decoder blocks (``layers_to_transform``, :data:`ADAPTED_LAYERS`);
      1.95 M trainable parameters, 1.4 % of the model. Adapting the MLPs as well learns this task
      in fewer steps than q/v only.
    * ``lora_dropout=0.0``, ``bias="none"``: peft then skips the dropout layer, whose copy of
      every adapted layer's input made a CPU training step about 50 % slower (and kept those
      copies in memory for the backward pass). Three epochs on a few hundred tickets do not
      overfit enough for dropout to help.

    Args:
        **overrides: any ``LoraConfig`` field, e.g. ``r=8, target_modules=["q_proj", "v_proj"]``.

    Raises:
        TypeError: an unknown ``LoraConfig`` field.
    """
    from peft import LoraConfig

    settings: dict[str, Any] = {
        "task_type": "CAUSAL_LM",
        "r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.0,
        "target_modules": list(TARGET_MODULES),
        "layers_to_transform": list(ADAPTED_LAYERS),
        "layers_pattern": "layers",
        "bias": "none",
    }
    settings.update(overrides)
    return LoraConfig(**settings)


@dataclass(frozen=True)
class TrainingPlan:
    """Device-dependent training settings chosen by :func:`training_plan`.

    Attributes:
        device_type: ``"cuda"``, ``"mps"`` or ``"cpu"``.
        precision: ``"bf16"``, ``"fp16"`` (mixed precision) or ``"fp32"``.
        per_device_train_batch_size: examples per device per forward pass.
        per_device_eval_batch_size: examples per device for the evaluation loss.
        gradient_accumulation_steps: forward passes per optimiser step.
        auto_find_batch_size: on out-of-memory, retry with half the batch instead of failing.
        use_cpu: force the CPU even if an accelerator is visible.
    """

    device_type: str
    precision: str
    per_device_train_batch_size: int
    per_device_eval_batch_size: int
    gradient_accumulation_steps: int
    auto_find_batch_size: bool
    use_cpu: bool

    def training_kwargs(self) -> dict[str, Any]:
        """The ``TrainingArguments`` keyword arguments of this plan."""
        return {
            "bf16": self.precision == "bf16",
            "fp16": self.precision == "fp16",
            "use_cpu": self.use_cpu,
            "per_device_train_batch_size": self.per_device_train_batch_size,
            "per_device_eval_batch_size": self.per_device_eval_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "auto_find_batch_size": self.auto_find_batch_size,
        }


def cpu_supports_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU has bfloat16 matrix instructions (``avx512_bf16`` or ``amx_bf16``).

    With them, bf16 autocast makes a training step about 1.5 × faster (measured: 1.45 s instead
    of 2.1 s for a LoRA step at batch 4 on a 2-core AVX-512 server); without them bf16 is emulated
    and slower than fp32.

    Args:
        cpuinfo: text of ``/proc/cpuinfo`` (default: read it; other systems answer ``False``).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def training_plan(device_type: str, *, bf16_supported: bool = False, batch_size: int | None = None) -> TrainingPlan:
    """Precision and batch settings for a device type; pure, so every branch is testable anywhere.

    * ``"cuda"``: bf16 mixed precision if ``bf16_supported`` (Ampere and newer), else fp16.
      Per-device batch :data:`TRAIN_BATCH_SIZE` (4), gradient accumulation 1, evaluation batch
      32, ``auto_find_batch_size=True``. SmolLM2-135M at 4-8 × ~100 tokens needs well under
      2 GB, so a 16 GB GPU (T4, V100, A4000) has ample room; the batch is *not* raised to fill
      it, so a GPU run takes the same optimiser steps as the CPU run and the same learning rate
      converges. Should a bigger model run out of memory, the Trainer halves the batch and retries.
    * ``"mps"``: fp32 (autocast on Apple GPUs is incomplete), batch 4, evaluation batch 16,
      ``auto_find_batch_size=True``.
    * ``"cpu"``: ``use_cpu=True``, bf16 autocast if ``bf16_supported`` (a CPU with bf16
      instructions, :func:`cpu_supports_bf16`) else fp32, batch 4, evaluation batch 32, no
      batch-size search (a CPU out-of-memory kills the process).

    Args:
        device_type: ``"cuda"``, ``"mps"`` or ``"cpu"`` (``torch.device(...).type``).
        bf16_supported: whether the device computes in bfloat16 natively (GPU:
            ``torch.cuda.is_bf16_supported()``; CPU: :func:`cpu_supports_bf16`); ignored on MPS.
        batch_size: per-device training batch size instead of :data:`TRAIN_BATCH_SIZE`.

    Raises:
        ValueError: unknown ``device_type`` or a ``batch_size`` below 1.
    """
    if batch_size is None:
        batch_size = TRAIN_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if device_type == "cuda":
        precision = "bf16" if bf16_supported else "fp16"
        return TrainingPlan("cuda", precision, batch_size, 32, 1, True, False)
    if device_type == "mps":
        return TrainingPlan("mps", "fp32", batch_size, 16, 1, True, False)
    if device_type == "cpu":
        return TrainingPlan("cpu", "bf16" if bf16_supported else "fp32", batch_size, 32, 1, False, True)
    raise ValueError(f"device_type={device_type!r}: use 'cuda', 'mps' or 'cpu'.")


def _bf16_supported(device: torch.device) -> bool:
    if device.type == "cpu":
        return cpu_supports_bf16()
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def default_training_arguments(
    output_dir: str | Path,
    *,
    num_train_epochs: float = 3,
    device: torch.device | str | None = None,
    batch_size: int | None = None,
    **overrides: Any,
) -> TrainingArguments:
    """``TrainingArguments`` for the challenge, adapted to the device (see :func:`training_plan`).

    Always: AdamW (the default fused implementation) at :data:`LEARNING_RATE` (4e-3) with 10 %
    linear warm-up then linear decay to 0 (``warmup_steps=0.1`` is a ratio), no weight decay,
    ``eval_strategy="epoch"`` (validation loss once per epoch), ``logging_strategy="steps"``
    every :data:`LOGGING_STEPS` steps (a loss curve with enough points), ``save_strategy="no"``
    (the adapter is saved explicitly, no checkpoints), ``report_to="none"``, seed 42 and
    ``label_names=["labels"]`` (a ``PeftModel``'s ``forward`` hides the name).

    Args:
        output_dir: Trainer's output folder (with ``save_strategy="no"`` nothing is written there).
        num_train_epochs: passes over the training set (``max_steps`` in ``overrides`` wins).
        device: where training runs; default :func:`helpers.device.pick_device`.
        batch_size: per-device training batch (default :data:`TRAIN_BATCH_SIZE`).
        **overrides: any other ``TrainingArguments`` field, applied last.

    Raises:
        TypeError: an unknown or removed field (``evaluation_strategy``, ``no_cuda``...).
        ValueError: an unknown device or invalid combination (from ``TrainingArguments``).
    """
    from transformers import TrainingArguments

    target = torch.device(device) if device is not None else pick_device()
    plan = training_plan(target.type, bf16_supported=_bf16_supported(target), batch_size=batch_size)
    settings: dict[str, Any] = {
        "output_dir": str(output_dir),
        "num_train_epochs": num_train_epochs,
        "learning_rate": LEARNING_RATE,
        "lr_scheduler_type": "linear",
        "warmup_steps": 0.1,
        "weight_decay": 0.0,
        "eval_strategy": "epoch",
        "logging_strategy": "steps",
        "logging_steps": LOGGING_STEPS,
        "save_strategy": "no",
        "report_to": "none",
        "seed": DEFAULT_SEED,
        "label_names": ["labels"],
        **plan.training_kwargs(),
    }
    settings.update(overrides)
    return TrainingArguments(**settings)


# ------------------------------------------------------------------------ models


def load_base_model(
    model_path: str | None = None,
    *,
    mode: str = "lora",
    device: torch.device | str | None = None,
) -> PreTrainedModel:
    """Load the chat model for ``mode``.

    * ``"lora"``: weights in :func:`helpers.device.pick_dtype` of the device (fp32 on a CPU,
      bf16/fp16 on a GPU); the LoRA adapters themselves are kept in fp32 by peft.
    * ``"full"``: fp32 weights (full fine-tuning keeps fp32 master weights).
    * ``"qlora"``: linear layers in 4-bit NF4 with double quantization
      (:func:`helpers.quantization.quantization_config`); matmuls computed in bfloat16 on
      a CPU with bf16 support or a bf16 GPU, else in the device's dtype.

    Args:
        model_path: local model folder; default: the resolved ``SmolLM2-135M-Instruct``.
        mode: ``"lora"``, ``"full"`` or ``"qlora"``.
        device: default :func:`helpers.device.pick_device`.

    Raises:
        ValueError: unknown ``mode``.
    """
    from transformers import AutoModelForCausalLM

    from helpers.noise import progress_bars_off

    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    target = torch.device(device) if device is not None else pick_device()
    path = model_path or _default_model_path()
    with progress_bars_off():
        if mode == "qlora":
            from helpers.quantization import quantization_config

            config = quantization_config(4, compute_dtype=_qlora_compute_dtype(target))
            return AutoModelForCausalLM.from_pretrained(
                path, quantization_config=config, dtype=pick_dtype(target), device_map={"": target}
            )
        dtype = torch.float32 if mode == "full" else pick_dtype(target)
        return AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(target)


def set_cpu_4bit_repacking(model: torch.nn.Module, enabled: bool) -> int:
    """Allow or forbid bitsandbytes' CPU repacking of 4-bit weights; returns the layers changed.

    bitsandbytes 0.50 repacks a ``Linear4bit``'s weights into a faster CPU layout the first time
    the layer runs in eval mode on a CPU with AVX-512 BF16 (``support_avx512bf16_for_cpu``), and
    keeps that layout. The repacked path (``gemv_4bit``) has no backward: training steps after
    an evaluation then send no correct gradient through those layers, and QLoRA stops learning
    after the first epoch's validation (measured: validation loss 0.13, 0.13, 0.12 and 28 %
    exact match, against 0.06, 0.03, 0.02 with repacking off). :func:`train` turns repacking off
    while training and back on for the final evaluation.

    Args:
        model: a model (or ``PeftModel``) loaded in 4-bit; other models are left alone.
        enabled: ``False`` while training, ``True`` for fast CPU inference afterwards.
    """
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:  # no bitsandbytes, so no 4-bit layers
        return 0
    changed = 0
    for module in model.modules():
        if isinstance(module, Linear4bit) and hasattr(module, "support_avx512bf16_for_cpu"):
            if enabled:
                module.support_avx512bf16_for_cpu = getattr(module, "_workshop_avx512bf16", True)
            else:
                module._workshop_avx512bf16 = getattr(module, "_workshop_avx512bf16", module.support_avx512bf16_for_cpu)
                module.support_avx512bf16_for_cpu = False
            changed += 1
    return changed


def _qlora_compute_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return pick_dtype(device)
    if device.type == "cpu" and torch.backends.cpu.get_cpu_capability().startswith("AVX512"):
        return torch.bfloat16
    return torch.float32


def _default_model_path() -> str:
    from helpers.models import CHAT_MODEL_ID, resolve_model

    return resolve_model(CHAT_MODEL_ID)


def prepare_for_training(
    model: PreTrainedModel,
    mode: str = "lora",
    *,
    lora_config: LoraConfig | None = None,
    gradient_checkpointing: bool = True,
) -> PreTrainedModel:
    """Make ``model`` trainable the ``mode`` way.

    * ``"lora"``: freeze the base and add :func:`default_lora_config` adapters (``get_peft_model``).
    * ``"qlora"``: ``prepare_model_for_kbit_training`` (norms and embeddings to fp32, base
      frozen, gradient checkpointing on, as in the QLoRA recipe) then the same adapters.
    * ``"full"``: every parameter trainable.

    Gradient (activation) checkpointing keeps only each decoder layer's input during the
    forward pass and recomputes the rest in the backward pass, non-reentrant
    (``use_reentrant=False``). :func:`train` and :func:`measure_training_memory` leave it off
    by default (on a CPU it makes a step about 40 % slower, and a 135M model fits in RAM
    anyway); turn it on for bigger models or batches.

    Args:
        model: from :func:`load_base_model` with the same ``mode``.
        mode: ``"lora"``, ``"full"`` or ``"qlora"``.
        lora_config: adapters for lora/qlora (default :func:`default_lora_config`).
        gradient_checkpointing: turn activation checkpointing on (QLoRA: passed to
            ``prepare_model_for_kbit_training``).

    Returns:
        A ``PeftModel`` (lora, qlora) or ``model`` itself (full).

    Raises:
        ValueError: unknown ``mode``.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    checkpointing_kwargs = {"use_reentrant": False}
    if mode == "full":
        model.requires_grad_(True)
        if gradient_checkpointing:
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=checkpointing_kwargs)
        return model
    from peft import get_peft_model, prepare_model_for_kbit_training

    if mode == "qlora":
        with warnings.catch_warnings():  # peft calls the deprecated alias gradient_checkpointing_enable
            warnings.filterwarnings("ignore", message=r".*gradient_checkpointing_enable.*deprecated.*")
            model = prepare_model_for_kbit_training(
                model, use_gradient_checkpointing=gradient_checkpointing,
                gradient_checkpointing_kwargs=checkpointing_kwargs,
            )
    elif gradient_checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=checkpointing_kwargs)
    with warnings.catch_warnings():  # peft 0.21 reads the deprecated alias is_gradient_checkpointing
        warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*deprecated.*")
        return get_peft_model(model, lora_config or default_lora_config())


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts; a 4-bit weight counts as its unquantized size.

    Tied weights (SmolLM2's embedding and ``lm_head``) count once.
    """
    trainable = total = 0
    for param in model.parameters():
        count = param.numel()
        if param.__class__.__name__ == "Params4bit":  # two 4-bit values per stored byte
            count *= 2
        total += count
        trainable += count if param.requires_grad else 0
    return trainable, total


# -------------------------------------------------------------------- evaluation


def _model_device(model: torch.nn.Module) -> torch.device:
    device = getattr(model, "device", None)
    return device if isinstance(device, torch.device) else next(model.parameters()).device


def generate_answers(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    messages: Sequence[str],
    *,
    batch_size: int = GENERATION_BATCH_SIZE,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> list[str]:
    """Greedy answers of ``model`` to customer messages, new text only.

    Each message becomes the task's prompt (system + user + generation prompt); batches are
    left-padded (a decoder-only model continues from the last position, so padding must not
    sit there). The tokenizer's ``padding_side`` and the model's train/eval mode are restored.
    An fp32 model on a CPU with bf16 instructions generates under bf16 autocast (about 1.5 ×
    faster; :func:`cpu_supports_bf16`).

    Args:
        model: a causal LM or ``PeftModel``.
        tokenizer: its tokenizer.
        messages: customer messages (``str``).
        batch_size: prompts per ``generate`` call.
        max_new_tokens: generation budget per answer; generation stops earlier at ``<|im_end|>``.

    Returns:
        One decoded answer per message (special tokens removed, whitespace stripped).

    Raises:
        TypeError: ``messages`` is a single string instead of a sequence of strings.
    """
    if isinstance(messages, str):
        raise TypeError("messages must be a sequence of strings, e.g. [message], not one string.")
    chats = [to_messages(m) for m in messages]
    answers: list[str] = []
    device = _model_device(model)
    side, was_training = tokenizer.padding_side, model.training
    tokenizer.padding_side = "left"
    model.eval()
    try:
        for start in range(0, len(chats), batch_size):
            batch = tokenizer.apply_chat_template(
                chats[start:start + batch_size], add_generation_prompt=True, tokenize=True,
                padding=True, return_tensors="pt", return_dict=True,
            ).to(device)
            with torch.inference_mode(), _generation_autocast(model, device):
                out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            new_tokens = out[:, batch["input_ids"].shape[1]:]
            answers += [a.strip() for a in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return answers


def _generation_autocast(model: torch.nn.Module, device: torch.device):
    """bf16 autocast for an fp32, unquantized model on a CPU with bf16 instructions; else nothing."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    quantized = getattr(base, "hf_quantizer", None) is not None or getattr(base, "is_quantized", False)
    dtype = next(base.parameters()).dtype
    if device.type == "cpu" and not quantized and dtype == torch.float32 and cpu_supports_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def evaluate_answers(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    dataset: Dataset | Sequence[Mapping[str, Any]],
    *,
    batch_size: int = EVALUATION_BATCH_SIZE,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> dict[str, Any]:
    """Generate an answer for every ticket of ``dataset`` and score it.

    Under ``accelerate launch`` each process answers its share of the tickets and the
    answers are gathered, in order, on every process.

    Args:
        model, tokenizer, max_new_tokens: as in :func:`generate_answers`.
        batch_size: prompts per ``generate`` call (default :data:`EVALUATION_BATCH_SIZE`).
        dataset: raw tickets (``message`` plus the four fields), e.g. ``load_splits()["validation"]``.

    Returns:
        :func:`helpers.extraction_task.score`'s dict: ``exact_match``, ``valid_json``
        (fractions in [0, 1]) and ``field_accuracy`` per field.

    Raises:
        ValueError: empty ``dataset``.
    """
    rows = [dict(r) for r in dataset]
    if not rows:
        raise ValueError("nothing to evaluate: the dataset is empty.")
    messages = [r["message"] for r in rows]
    state = _accelerate_state()
    if state is not None and state.num_processes > 1:
        from accelerate.utils import gather_object

        with state.split_between_processes(messages) as share:
            answers = generate_answers(model, tokenizer, share, batch_size=batch_size, max_new_tokens=max_new_tokens)
        answers = gather_object(answers)
    else:
        answers = generate_answers(model, tokenizer, messages, batch_size=batch_size, max_new_tokens=max_new_tokens)
    return score(answers, rows)


def _accelerate_state():
    """accelerate's ``PartialState`` when running under ``accelerate launch``/``torchrun``, else ``None``."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    from accelerate import PartialState

    return PartialState()


# ----------------------------------------------------------------------- results


def update_results(updates: Mapping[str, Any], path: str | Path = RESULTS_PATH) -> dict[str, Any]:
    """Merge ``updates`` into the results file and write it back (creating folders).

    Nested objects are merged key by key, so a QLoRA run adds ``"qlora"`` entries next to
    the LoRA run's instead of replacing them. An unreadable existing file is replaced.

    Returns:
        The merged results object.
    """
    target = Path(path)
    try:
        current = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = {}
    if not isinstance(current, dict):
        current = {}
    merged = _merge(current, updates)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return merged


def _merge(base: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _shown(path: str | Path) -> str:
    """``path`` relative to the repository when it is inside it (no machine-specific prefix in outputs)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def checkpoint_bytes(folder: str | Path) -> int:
    """Bytes of the weight files (``*.safetensors``, ``*.bin``) saved in ``folder``: what sharing costs.

    Raises:
        FileNotFoundError: ``folder`` holds no weight file.
    """
    files = [f for f in Path(folder).glob("*") if f.suffix in (".safetensors", ".bin")]
    if not files:
        raise FileNotFoundError(f"no weight files (*.safetensors, *.bin) in {folder}")
    return sum(f.stat().st_size for f in files)


def adapter_bytes(adapter_dir: str | Path) -> int:
    """Size in bytes of the saved adapter weights (``adapter_model.safetensors``).

    Raises:
        FileNotFoundError: no adapter weights in ``adapter_dir``.
    """
    path = Path(adapter_dir) / "adapter_model.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"no adapter weights at {path}")
    return path.stat().st_size


# ----------------------------------------------------------------------- training


def train(
    *,
    epochs: int = 3,
    max_steps: int | None = None,
    limit: int | None = None,
    eval_limit: int | None = None,
    loss_eval_limit: int | None = None,
    mode: str = "lora",
    batch_size: int | None = None,
    output_dir: str | Path | None = None,
    results_path: str | Path | None = RESULTS_PATH,
    model_path: str | None = None,
    evaluate_base: bool | None = None,
    gradient_checkpointing: bool = False,
    max_new_tokens: int = MAX_NEW_TOKENS,
    verbose: bool = True,
    **training_overrides: Any,
) -> dict[str, Any]:
    """The challenge end to end: load, evaluate, fine-tune, evaluate, save the adapter, record.

    Steps: tokenize the train and validation tickets; load the base model (4-bit for QLoRA);
    score the base model on the validation tickets; add LoRA adapters
    (:func:`prepare_for_training`); train with ``Trainer`` (:func:`default_training_arguments`,
    :func:`data_collator`, ``processing_class=tokenizer``) while measuring the peak memory of
    ``trainer.train()``; score again; save the adapter; merge the numbers into ``results_path``.
    Works in one process (notebook) or under ``accelerate launch`` (data-parallel; only the
    main process prints and writes files).

    Args:
        epochs: training epochs.
        max_steps: stop after this many optimiser steps (quick tests); overrides ``epochs``.
        limit: train on the first ``limit`` training tickets (default all 240).
        eval_limit: evaluate on the first ``eval_limit`` validation tickets (default all 60).
        loss_eval_limit: compute the per-epoch validation loss on the first ``loss_eval_limit``
            validation tickets (default: the same as ``eval_limit``); fewer saves time on a CPU.
        mode: ``"lora"``; ``"qlora"`` (4-bit NF4 base); or ``"full"`` (every weight trained, at
            :data:`FULL_LEARNING_RATE`, the whole model saved). Results go under this key.
        batch_size: per-device training batch (default :data:`TRAIN_BATCH_SIZE`).
        output_dir: adapter (or, for full, model) folder (default :data:`ADAPTER_DIR`,
            :data:`QLORA_ADAPTER_DIR` or :data:`FULL_MODEL_DIR`).
        results_path: results JSON to merge into; ``None`` writes nothing.
        model_path: base model folder (default: resolved SmolLM2-135M-Instruct).
        evaluate_base: score the base model first (default: yes for LoRA, no otherwise).
        gradient_checkpointing: see :func:`prepare_for_training`.
        max_new_tokens: generation budget of the evaluations.
        verbose: print a summary (main process only).
        **training_overrides: extra ``TrainingArguments`` fields.

    Returns:
        The run's results (schema of :mod:`helpers.challenge_results`), plus ``"log_history"``
        (the Trainer's logged losses) and ``"train_peak_memory_bytes"``, neither written to the
        file. Every process returns them. ``train_peak_memory_bytes`` is the whole process's peak
        resident memory during ``trainer.train()`` with the default allocator (in a notebook it
        includes whatever the kernel already holds), so it is not comparable between runs and
        stays out of ``results_path``; compare strategies with :func:`measure_training_memory`.
    """
    from helpers.noise import quiet_libraries

    quiet_libraries()  # before transformers imports bitsandbytes, whose CPU log line is noise
    from transformers import AutoTokenizer, Trainer

    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    strategy = mode
    evaluate_base = (mode == "lora") if evaluate_base is None else evaluate_base
    default_dirs = {"lora": ADAPTER_DIR, "qlora": QLORA_ADAPTER_DIR, "full": FULL_MODEL_DIR}
    adapter_dir = Path(output_dir) if output_dir is not None else default_dirs[mode]
    state = _accelerate_state()
    device = state.device if state is not None else pick_device()
    main = state is None or state.is_main_process
    say = print if (verbose and main) else (lambda *a, **k: None)
    seed_everything(DEFAULT_SEED)

    path = model_path or _default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    data = build_splits(tokenizer, ("train",), limit=limit)
    loss_limit = eval_limit if loss_eval_limit is None else loss_eval_limit
    data["validation"] = build_splits(tokenizer, ("validation",), limit=loss_limit)["validation"]
    raw_validation = _first(load_splits(("validation",))["validation"], eval_limit)

    model = load_base_model(path, mode=strategy, device=device)
    results: dict[str, Any] = {"base_model": _model_id(path), "metrics": {}}
    if evaluate_base:
        started = time.perf_counter()
        results["metrics"]["base"] = evaluate_answers(model, tokenizer, raw_validation, max_new_tokens=max_new_tokens)
        say(f"base model: exact match {results['metrics']['base']['exact_match']:.0%} on "
            f"{len(raw_validation)} validation tickets ({time.perf_counter() - started:.0f} s)")
    model = prepare_for_training(model, strategy, gradient_checkpointing=gradient_checkpointing)
    trainable, total = count_parameters(model)
    results["trainable_params"] = {strategy: trainable}
    results["total_params"] = total if mode == "full" else total - trainable  # the base model's

    overrides = dict(training_overrides)
    if mode == "full":
        overrides.setdefault("learning_rate", FULL_LEARNING_RATE)
    if max_steps is not None:
        overrides["max_steps"] = max_steps
    args = default_training_arguments(adapter_dir, num_train_epochs=epochs, device=device,
                                      batch_size=batch_size, **overrides)
    trainer = Trainer(model=model, args=args, train_dataset=data["train"], eval_dataset=data["validation"],
                      data_collator=data_collator(tokenizer), processing_class=tokenizer)
    gc.collect()
    set_cpu_4bit_repacking(model, False)  # the repacked 4-bit path cannot backpropagate
    with peak_memory(device) as memory:
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    set_cpu_4bit_repacking(model, True)
    ran_epochs = epochs if max_steps is None else math.ceil(trainer.state.epoch or 0)
    results["epochs_by_strategy"] = {strategy: ran_epochs}
    if mode == "lora":  # "epochs" is the LoRA run's; a 1-epoch comparison run must not overwrite it
        results["epochs"] = ran_epochs
    results["train_seconds"] = {strategy: round(seconds, 1)}
    results["train_peak_memory_bytes"] = {strategy: int(memory.peak_bytes)}
    model = trainer.model
    started = time.perf_counter()
    results["metrics"][strategy] = evaluate_answers(model, tokenizer, raw_validation, max_new_tokens=max_new_tokens)
    eval_seconds = time.perf_counter() - started
    if main:
        model.save_pretrained(adapter_dir)
        results["checkpoint_bytes"] = {strategy: checkpoint_bytes(adapter_dir)}
        if results_path is not None:  # the in-process peak is not comparable across runs: not written
            update_results({k: v for k, v in results.items() if k != "train_peak_memory_bytes"}, results_path)
        say(f"{strategy}: exact match {results['metrics'][strategy]['exact_match']:.0%} after "
            f"{trainer.state.global_step} steps in {seconds:.0f} s (evaluation {eval_seconds:.0f} s); "
            f"saved to {_shown(adapter_dir)}")
    if state is not None:
        state.wait_for_everyone()
    results["log_history"] = list(trainer.state.log_history)
    return results


def _model_id(path: str) -> str:
    from helpers.models import CHAT_MODEL_ID, resolve_model

    try:
        return CHAT_MODEL_ID if Path(path).resolve() == Path(resolve_model(CHAT_MODEL_ID, verbose=False)).resolve() \
            else str(path)
    except Exception:  # resolution problems must not break a finished run
        return str(path)


# ------------------------------------------------------------------------ memory


@dataclass(frozen=True)
class StepMeasurement:
    """What the ``memory`` command measured in its own process."""

    mode: str
    peak_bytes: int
    baseline_bytes: int
    seconds_per_step: float
    cpu_seconds_per_step: float
    first_step_seconds: float
    trainable_params: int
    total_params: int
    batch_size: int
    sequence_length: int
    steps: int
    gradient_checkpointing: bool
    method: str
    pid: int
    """The measuring process's id: proof that each mode ran in a process of its own."""


def _measure_here(mode: str, steps: int, batch_size: int, gradient_checkpointing: bool) -> StepMeasurement:
    """Measure ``mode``'s training in this process: peak memory of two steps, then ``steps - 2`` timed steps."""
    strict = _set_mmap_threshold(MMAP_THRESHOLD_BYTES)  # before the model and the data are allocated
    from helpers.noise import quiet_libraries

    quiet_libraries()
    from transformers import AutoTokenizer

    seed_everything(DEFAULT_SEED)
    device = pick_device()
    path = _default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = build_splits(tokenizer, ("train",), limit=batch_size)["train"]
    batch = data_collator(tokenizer)([rows[i] for i in range(len(rows))])
    batch = {k: v.to(device) for k, v in batch.items()}
    model = prepare_for_training(load_base_model(path, mode=mode, device=device), mode,
                                 gradient_checkpointing=gradient_checkpointing)
    trainable, total = count_parameters(model)
    params = [p for p in model.parameters() if p.requires_grad]
    try:  # the Trainer's default optimiser is adamw_torch_fused
        optimizer = torch.optim.AdamW(params, lr=1e-5, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(params, lr=1e-5)
    model.train()

    def timed_step() -> tuple[float, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - started, time.process_time() - cpu_started

    gc.collect()
    with peak_memory(device) as memory:
        first_step_seconds, _ = timed_step()  # allocates AdamW's state
        steady = timed_step()  # a steady-state step: weights, gradients, optimiser state and activations
    if strict:  # glibc's own setting once large blocks have been freed: fast reuse of the heap
        _set_mmap_threshold(_GLIBC_MAX_MMAP_THRESHOLD, trim_threshold=2 * _GLIBC_MAX_MMAP_THRESHOLD)
    timed = [timed_step() for _ in range(steps - 2)] or [steady]  # steps=2: the steady step's time
    times, cpu_times = zip(*timed, strict=True)
    return StepMeasurement(
        mode=mode, peak_bytes=int(memory.peak_bytes), baseline_bytes=int(memory.baseline_bytes),
        seconds_per_step=round(statistics.median(times), 3),
        cpu_seconds_per_step=round(statistics.median(cpu_times), 3),
        first_step_seconds=round(first_step_seconds, 3), trainable_params=trainable, total_params=total,
        batch_size=len(rows), sequence_length=int(batch["input_ids"].shape[1]), steps=steps,
        gradient_checkpointing=gradient_checkpointing,
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


def measure_training_memory(
    mode: str,
    *,
    steps: int = 3,
    batch_size: int = TRAIN_BATCH_SIZE,
    timeout: float = 600,
    gradient_checkpointing: bool = False,
) -> dict[str, Any]:
    """Peak memory and speed of ``mode``'s training steps, measured in a fresh process.

    Runs ``python -m helpers.lora_training memory --mode MODE --steps N --batch-size B``. The
    child loads the model for ``mode`` (:func:`load_base_model`, :func:`prepare_for_training`):
    ``full`` = every parameter trainable (fp32); ``lora`` = :func:`default_lora_config` on an
    fp32 base; ``qlora`` = 4-bit NF4 double-quant base, ``prepare_model_for_kbit_training``,
    the same LoRA. It trains with fused AdamW (the Trainer's default) on the same batch, the
    first ``batch_size`` training tickets, for every mode: two steps for the memory peak (the
    first allocates AdamW's state, the second is a steady-state step), then ``steps - 2`` timed
    steps.

    Gradient checkpointing is off by default, as in the challenge's training runs. Measured at
    batch 4 × 99 tokens on a CPU: LoRA 1.60 GB, full 2.96 GB (0.54 ×), QLoRA 1.24 GB. With
    adapters in all 30 blocks (not only the top 12) and batch 8, LoRA's activations and the
    49,152-word logits brought it to 0.73 × full; checkpointing then gave 0.60 ×.

    Memory is :func:`helpers.memory.peak_memory` around the two memory steps: on a CPU the
    process's peak resident set size (Linux ``VmHWM``, reset when the steps start), which
    includes the weights, the libraries and data (~0.45 GiB) and everything training allocates
    (gradients, AdamW's two moments, activations, logits); loading is not included. During those
    steps glibc's mmap threshold is fixed at :data:`MMAP_THRESHOLD_BYTES` (64 KiB), so every
    freed tensor goes back to the system at once. With glibc's default (a threshold that climbs
    to 32 MiB as large blocks are freed) up to ~0.7 GB of already-freed activations stayed
    resident in LoRA's heap, and the peak measured the allocator rather than training. The timed
    steps run with glibc's usual setting, because returning every block makes steps up to 80 %
    slower. On CUDA the peak is the torch allocator's. One process per mode keeps one mode's
    allocations out of another's peak.

    Args:
        mode: ``"lora"``, ``"full"`` or ``"qlora"``.
        steps: training steps in all, at least 2: two for the memory peak, the rest timed (with
            2, the second step's time, measured with the strict allocator setting, is reported).
        batch_size: examples in the batch.
        timeout: seconds before the child is stopped.
        gradient_checkpointing: activation checkpointing in the child.

    Returns:
        ``{"mode", "peak_bytes", "seconds_per_step", "trainable_params"}`` plus
        ``"baseline_bytes"`` (memory when the steps start: libraries, data, weights),
        ``"cpu_seconds_per_step"`` (CPU time of all threads, steadier than wall time on a busy
        machine), ``"first_step_seconds"``, ``"total_params"``, ``"batch_size"``,
        ``"sequence_length"``, ``"steps"``, ``"gradient_checkpointing"``, ``"method"`` and ``"pid"``
        (the child's process id).
        ``seconds_per_step`` is the median of the timed steps.

    Raises:
        ValueError: unknown ``mode``, ``steps`` below 2 or ``batch_size`` below 1.
        RuntimeError: the child failed, was killed or timed out; the message holds its last
            stderr lines.
    """
    command = _memory_command(mode, steps, batch_size, gradient_checkpointing)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT,
                              env=_child_env())
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(f"measuring {mode} training memory took longer than {timeout:.0f} s and was stopped."
                           f"{_tail(err.stderr)}") from None
    return _parse_measurement(mode, done.returncode, done.stdout, done.stderr)


def compare_training_memory(
    modes: Sequence[str] = MODES,
    *,
    steps: int = 2,
    batch_size: int = TRAIN_BATCH_SIZE,
    timeout: float = 600,
    gradient_checkpointing: bool = False,
) -> dict[str, dict[str, Any]]:
    """:func:`measure_training_memory` for several modes at once: one process per mode, side by side.

    The children start together, each limited to one CPU thread (``OMP_NUM_THREADS=1``), so
    three modes take about as long as the slowest one alone instead of the sum (27 s instead of
    42 s on a 2-core CPU). A process's peak resident memory is its own, so running side by side
    does not change the peaks; ``seconds_per_step`` is then a one-thread time on a shared CPU,
    useful only to compare the modes with each other.

    Args:
        modes: any of :data:`MODES`, each once.
        steps, batch_size, timeout, gradient_checkpointing: as in :func:`measure_training_memory`
            (the same batch for every mode).

    Returns:
        ``{mode: measurement}`` in the order of ``modes``.

    Raises:
        ValueError: an unknown or repeated mode, or bad ``steps``/``batch_size``.
        RuntimeError: a child failed or timed out (the others are stopped); the message names it.
    """
    modes = tuple(modes)
    if len(set(modes)) != len(modes) or not modes:
        raise ValueError(f"modes={modes!r}: give each mode once.")
    commands = {mode: _memory_command(mode, steps, batch_size, gradient_checkpointing) for mode in modes}
    env = {**_child_env(), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    children = {mode: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       cwd=REPO_ROOT, env=env) for mode, command in commands.items()}
    deadline = time.monotonic() + timeout
    results: dict[str, dict[str, Any]] = {}
    try:
        for mode, child in children.items():
            try:
                stdout, stderr = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"measuring {mode} training memory took longer than {timeout:.0f} s and was "
                                   "stopped.") from None
            results[mode] = _parse_measurement(mode, child.returncode, stdout, stderr)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.communicate()
    return results


def _memory_command(mode: str, steps: int, batch_size: int, gradient_checkpointing: bool) -> list[str]:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    for name, value, least in (("steps", steps, 2), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an int of at least {least}, got {value!r}")
    command = [sys.executable, "-m", "helpers.lora_training", "memory", "--mode", mode,
               "--steps", str(steps), "--batch-size", str(batch_size)]
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.lora_training", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="fine-tune with LoRA (or QLoRA), evaluate, save the adapter")
    run.add_argument("--epochs", type=_positive_int, default=3)
    run.add_argument("--max-steps", type=_positive_int, default=None, help="stop after N steps (quick tests)")
    run.add_argument("--limit", type=_positive_int, default=None, help="train on the first N tickets")
    run.add_argument("--eval-limit", type=_positive_int, default=None, help="evaluate on the first N tickets")
    run.add_argument("--loss-eval-limit", type=_positive_int, default=None,
                     help="validation tickets for the per-epoch loss (default: --eval-limit)")
    run.add_argument("--output-dir", type=Path, default=None,
                     help=f"adapter folder (default {ADAPTER_DIR.relative_to(REPO_ROOT)})")
    run.add_argument("--results", type=Path, default=RESULTS_PATH, help="results JSON to merge into")
    run.add_argument("--mode", choices=MODES, default="lora",
                     help="lora; qlora (4-bit NF4 base); full (every weight, whole model saved)")
    run.add_argument("--batch-size", type=_positive_int, default=None, help="per-device training batch")
    run.add_argument("--no-base-eval", action="store_true", help="skip scoring the base model")
    run.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations (less memory)")
    run.add_argument("--max-new-tokens", type=_positive_int, default=MAX_NEW_TOKENS)
    mem = commands.add_parser("memory", help="measure peak memory of a few training steps; prints one JSON line")
    mem.add_argument("--mode", choices=MODES, required=True)
    mem.add_argument("--steps", type=_positive_int, default=3, help="2 for the memory peak + timed steps (min 2)")
    mem.add_argument("--batch-size", type=_positive_int, default=8)
    mem.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations (less memory)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m helpers.lora_training``; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "memory":
        result = _measure_here(args.mode, args.steps, args.batch_size, args.gradient_checkpointing)
        print(json.dumps(asdict(result)))
        return 0
    train(epochs=args.epochs, max_steps=args.max_steps, limit=args.limit, eval_limit=args.eval_limit,
          loss_eval_limit=args.loss_eval_limit,
          mode=args.mode, batch_size=args.batch_size, output_dir=args.output_dir, results_path=args.results,
          evaluate_base=False if args.no_base_eval else None, max_new_tokens=args.max_new_tokens,
          gradient_checkpointing=args.gradient_checkpointing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
