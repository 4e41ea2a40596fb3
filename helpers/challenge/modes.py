"""The challenge's three training strategies and how a model is made trainable for each.

The memory probe's children (:mod:`helpers.challenge.probe_child`) and the grader's reference solution
(:mod:`checks.reference.models`) prepare their models here, so both train exactly the same way. Not for notebooks:
the challenge has the learner write ``get_peft_model`` and ``prepare_model_for_kbit_training``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import PreTrainedModel

MODES: tuple[str, ...] = ("lora", "full", "qlora")
"""The training strategies: LoRA adapters on a frozen base, every weight trained, LoRA on a 4-bit base (QLoRA)."""


def check_mode(mode: str) -> str:
    """``mode`` itself when it is one of :data:`MODES`.

    Raises:
        ValueError: any other value; the message lists the modes.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    return mode


def prepare_for_mode(model: PreTrainedModel, mode: str, lora_config: LoraConfig | None, *,
                     gradient_checkpointing: bool = False) -> PreTrainedModel:
    """Make ``model`` trainable the ``mode`` way.

    * ``"lora"``: ``get_peft_model(model, lora_config)``: the base frozen, adapters trainable.
    * ``"qlora"``: ``prepare_model_for_kbit_training`` (norms and embeddings to fp32, base frozen), then the
      same adapters. ``model`` is the base loaded in 4-bit.
    * ``"full"``: every parameter trainable (``lora_config`` is ignored).

    Gradient (activation) checkpointing keeps only each decoder layer's input in the forward pass and
    recomputes the rest in the backward pass (non-reentrant); off by default: on a CPU a step is about
    40 % slower, and a 135M model fits in RAM anyway.

    Args:
        model: the base model, loaded for ``mode`` (fp32 for full fine-tuning, 4-bit for QLoRA).
        mode: one of :data:`MODES`.
        lora_config: the adapters (needed for lora and qlora).
        gradient_checkpointing: turn activation checkpointing on (QLoRA: passed to
            ``prepare_model_for_kbit_training``).

    Returns:
        A ``PeftModel`` (lora, qlora) or ``model`` itself (full).

    Raises:
        ValueError: unknown ``mode``, or no ``lora_config`` for lora/qlora.
    """
    check_mode(mode)
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
