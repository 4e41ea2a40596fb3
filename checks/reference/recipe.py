"""The reference solution's recipe: the LoRA configuration and the ``TrainingArguments`` of the challenge.

The precision is :func:`helpers.device.mixed_precision`'s, the one decision of the workshop; the rest of the plan
(batch sizes, batch-size search, ``use_cpu``) is this recipe's own choice per device type (:func:`training_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from helpers.challenge.pace import DEFAULT_LAYERS
from helpers.device import DEFAULT_SEED, mixed_precision, pick_device, trainer_flags

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import TrainingArguments

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
ADAPTED_LAYERS: tuple[int, ...] = DEFAULT_LAYERS
"""Decoder blocks that get adapters: the top 8 of SmolLM2-135M's 30 (:data:`helpers.challenge.pace.DEFAULT_LAYERS`).

Backpropagation stops below the lowest adapted block, so a CPU step is about half as long as with
adapters in all 30 (under the AVX2 stand-in, with answer-only logits: 1.45 s instead of 2.66 s at batch 4 x 99 tokens)
and the activations of the 22 frozen blocks are not kept for the backward pass. On a GPU, where the
step is cheap anyway, ``layers_to_transform=None`` adapts every block."""
TRAIN_BATCH_SIZE = 4
"""Per-device training batch on every device type. On a CPU the cost per example hardly depends
on the batch, so 4 gives twice the optimiser steps of 8 for the same time (and learned more)."""
LOGGING_STEPS = 5
"""Log the training loss every 5 optimiser steps: 24 points for 3 epochs of 160 tickets at batch 4."""


def default_lora_config(**overrides: Any) -> LoraConfig:
    """The challenge's LoRA configuration (``task_type="CAUSAL_LM"``).

    * ``r=16``, ``lora_alpha=32`` (scale alpha/r = 2): enough capacity to learn the label
      vocabulary ("earbuds" → ``headphones``) and the exact output format within 3 short epochs.
    * ``target_modules``: the seven projections (:data:`TARGET_MODULES`, attention and MLP, not
      ``lm_head``) of the top 8 decoder blocks (``layers_to_transform``, :data:`ADAPTED_LAYERS`);
      1.3 M trainable parameters, 1 % of the model. Adapting the MLPs as well learns this task
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


EVAL_BATCH_SIZES: dict[str, int] = {"cuda": 32, "mps": 16, "cpu": 32}
"""Per-device evaluation batch (the validation loss) on each device type the recipe trains on."""


@dataclass(frozen=True)
class TrainingPlan:
    """Device-dependent training settings chosen by :func:`training_plan`.

    Attributes:
        device_type: ``"cuda"``, ``"mps"`` or ``"cpu"``.
        mixed_precision: ``"bf16"``, ``"fp16"`` or ``"no"`` (:data:`helpers.device.MIXED_PRECISIONS`).
        per_device_train_batch_size: examples per device per forward pass.
        per_device_eval_batch_size: examples per device for the evaluation loss.
        gradient_accumulation_steps: forward passes per optimiser step.
        auto_find_batch_size: on out-of-memory, retry with half the batch instead of failing.
        use_cpu: force the CPU even if an accelerator is visible.
    """

    device_type: str
    mixed_precision: str
    per_device_train_batch_size: int
    per_device_eval_batch_size: int
    gradient_accumulation_steps: int
    auto_find_batch_size: bool
    use_cpu: bool

    def training_kwargs(self) -> dict[str, Any]:
        """The ``TrainingArguments`` keyword arguments of this plan.

        Raises:
            ValueError: :attr:`mixed_precision` is not one of :data:`helpers.device.MIXED_PRECISIONS`.
        """
        return {
            **trainer_flags(self.mixed_precision),
            "use_cpu": self.use_cpu,
            "per_device_train_batch_size": self.per_device_train_batch_size,
            "per_device_eval_batch_size": self.per_device_eval_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "auto_find_batch_size": self.auto_find_batch_size,
        }


def training_plan(device: torch.device | str, *, batch_size: int | None = None) -> TrainingPlan:
    """Precision and batch settings for training on ``device``.

    The mixed precision is :func:`helpers.device.mixed_precision` of ``device`` (bf16 on Ampere GPUs and CPUs with
    native bf16 matmuls, fp16 on older GPUs, none on MPS and other CPUs). The rest:

    * ``"cuda"``: per-device batch :data:`TRAIN_BATCH_SIZE` (4), gradient accumulation 1, evaluation batch 32,
      ``auto_find_batch_size=True``. SmolLM2-135M at 4-8 × ~100 tokens needs well under 2 GB, so a 16 GB GPU (T4,
      V100, A4000) has ample room; the batch is *not* raised to fill it, so a GPU run takes the same optimiser steps
      as the CPU run and the same learning rate converges. Should a bigger model run out of memory, the Trainer
      halves the batch and retries.
    * ``"mps"``: batch 4, evaluation batch 16, ``auto_find_batch_size=True``.
    * ``"cpu"``: ``use_cpu=True``, batch 4, evaluation batch 32, no batch-size search (a CPU out-of-memory kills
      the process).

    Args:
        device: where training runs (``torch.device`` or its name).
        batch_size: per-device training batch size instead of :data:`TRAIN_BATCH_SIZE`.

    Raises:
        ValueError: a device type other than cuda, mps and cpu, or a ``batch_size`` below 1.
    """
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r}: use 'cuda', 'mps' or 'cpu'.") from None
    if target.type not in EVAL_BATCH_SIZES:
        raise ValueError(f"device={device!r}: use 'cuda', 'mps' or 'cpu'.")
    if batch_size is None:
        batch_size = TRAIN_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    on_cpu = target.type == "cpu"
    return TrainingPlan(target.type, mixed_precision(target), batch_size, EVAL_BATCH_SIZES[target.type], 1,
                        auto_find_batch_size=not on_cpu, use_cpu=on_cpu)


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

    plan = training_plan(device if device is not None else pick_device(), batch_size=batch_size)
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
