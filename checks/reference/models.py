"""The reference solution's models: SmolLM2 loaded for a training mode, and made trainable that mode's way.

The modes are :data:`helpers.challenge.modes.MODES` (``"lora"``, ``"full"``, ``"qlora"``); a model is made trainable
by :func:`helpers.challenge.modes.prepare_for_mode`, as the memory probe's children do. Dtypes follow
:func:`helpers.device.precision`, the workshop's one decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from checks.reference.recipe import default_lora_config
from helpers.challenge.modes import check_mode, prepare_for_mode
from helpers.device import compute_dtype, pick_device, pick_dtype
from helpers.env import progress_bars_off
from helpers.models import CHAT_MODEL_ID

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig, PreTrainedModel


def nf4_config(compute: torch.dtype) -> BitsAndBytesConfig:
    """The challenge's 4-bit quantization (Bonus A, QLoRA): NF4 with double quantization, matmuls in ``compute``.

    Args:
        compute: ``bnb_4bit_compute_dtype``, e.g. :func:`helpers.device.compute_dtype` of the device.
    """
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=compute)


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
      (``BitsAndBytesConfig``); matmuls computed in bfloat16 on
      a CPU with bf16 support or a bf16 GPU, else in the device's dtype.

    Args:
        model_path: local model folder; default: the resolved ``SmolLM2-135M-Instruct``.
        mode: ``"lora"``, ``"full"`` or ``"qlora"``.
        device: default :func:`helpers.device.pick_device`.

    Raises:
        ValueError: unknown ``mode``.
    """
    from transformers import AutoModelForCausalLM

    check_mode(mode)
    target = torch.device(device) if device is not None else pick_device()
    path = model_path or CHAT_MODEL_ID
    with progress_bars_off():
        if mode == "qlora":
            from helpers.env import silence_bitsandbytes

            silence_bitsandbytes()
            return AutoModelForCausalLM.from_pretrained(
                path, quantization_config=nf4_config(compute_dtype(target)), dtype=pick_dtype(target),
                device_map={"": target}
            )
        dtype = torch.float32 if mode == "full" else pick_dtype(target)
        return AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(target)


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
    (``use_reentrant=False``). :func:`checks.reference.lora.train` and
    :func:`helpers.challenge.memory_probe.measure_training_memory` leave it off
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
    return prepare_for_mode(model, mode, lora_config or default_lora_config(),
                            gradient_checkpointing=gradient_checkpointing)
