"""The LoRA challenge's tools around the lesson: batched greedy answers, parameter counts, checkpoint sizes.

04 · LoRA challenge has the learner write the lesson's code (``LoraConfig``, ``TrainingArguments`` and
``Trainer``, saving and reloading the adapter, QLoRA's ``BitsAndBytesConfig``). This module holds what is
around it, each documented where the notebook calls it::

    answers = generate_answers(model, tokenizer, messages)   # batched, left-padded, greedy
    collator = keep_answer_logits(DataCollatorForSeq2Seq(...))  # the vocabulary projection only where labels are
    trainable, total = count_parameters(model)
    adapter_bytes(ADAPTER_DIR)                                # what sharing the adapter costs

The grader's reference implementation of the tasks lives with the grader, in
``checks/reference/``, not here.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from helpers.challenge.data import IGNORE_INDEX
from helpers.challenge.task import MAX_NEW_TOKENS, to_messages
from helpers.device import mixed_precision

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

GENERATION_BATCH_SIZE = 64
"""Prompts per ``generate`` call. On a 2-core CPU the 60 validation tickets took 21 s in batches of
16, 17 s in batches of 32, 14 s in one batch of 64 and 9 s with bf16 autocast on top."""



# ------------------------------------------------------------------------- batches


def answer_logits_only(batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``batch`` plus ``logits_to_keep`` and ``shift_labels``: the model projects onto the vocabulary only where a
    label exists.

    A causal LM's head turns every position's hidden state into 49,152 logits (SmolLM2): about a fifth of the
    forward pass, and a ``(batch, length, 49152)`` fp32 tensor kept for the backward pass. Position ``i``
    predicts token ``i + 1``, so only positions whose *next* token has a label (the answer) feed the loss.
    transformers 5 models take ``logits_to_keep``: with a boolean ``(batch, length)`` mask they compute the
    logits of the ``True`` positions only, flattened to ``(n, vocab)``; ``shift_labels`` (``(n,)``, the
    matching next-token labels) then replaces the shift the loss would do. The loss is the same number (and so
    are the gradients); a LoRA step on the challenge's batches (4 x 99 tokens, 119 of them labelled) took 1.66 s
    instead of 1.89 s under the AVX2 stand-in, and the prompt positions keep no logits for the backward pass.

    Args:
        batch: a collator's output with ``labels`` of shape ``(batch, length)`` (-100 where no loss).

    Returns:
        A new dict: ``batch``'s tensors, ``logits_to_keep`` (bool, ``(batch, length)``) and ``shift_labels``
        (long, ``(n,)``, ``n`` = the labelled tokens after the first position of each row).

    Raises:
        ValueError: ``batch`` has no 2-D ``labels`` tensor.
    """
    labels = batch.get("labels") if isinstance(batch, Mapping) else None
    if not isinstance(labels, torch.Tensor) or labels.ndim != 2:
        raise ValueError("batch must hold labels of shape (batch, length): pass the collator's output.")
    shifted = torch.nn.functional.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)  # position i predicts token i + 1
    keep = shifted != IGNORE_INDEX
    return {**batch, "logits_to_keep": keep, "shift_labels": shifted[keep]}


class keep_answer_logits:
    """Wrap a collator so each batch passes through :func:`answer_logits_only`.

    ``collator = keep_answer_logits(DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100))``: the wrapped
    collator still pads; the model then computes logits only where the loss needs them. Evaluation loss is unchanged.
    """

    def __init__(self, collator: Callable[[list[dict]], Mapping[str, torch.Tensor]]):
        if not callable(collator):
            raise TypeError(f"keep_answer_logits needs a collator (a callable), got {type(collator).__name__}.")
        self.collator = collator

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        return answer_logits_only(self.collator(features))

    def __repr__(self) -> str:
        return f"keep_answer_logits({self.collator!r})"


# ------------------------------------------------------------------------ models


def set_cpu_4bit_repacking(model: torch.nn.Module, enabled: bool) -> int:
    """Allow or forbid bitsandbytes' CPU repacking of 4-bit weights; returns the layers changed.

    bitsandbytes 0.50 repacks a ``Linear4bit``'s weights into a faster CPU layout the first time
    the layer runs in eval mode on a CPU with AVX-512 BF16 (``support_avx512bf16_for_cpu``), and
    keeps that layout. The repacked path (``gemv_4bit``) has no backward: training steps after
    an evaluation then send no correct gradient through those layers, and QLoRA stops learning
    after the first epoch's validation (measured: validation loss 0.13, 0.13, 0.12 and 28 %
    exact match, against 0.06, 0.03, 0.02 with repacking off). The challenge notebook turns it
    off before ``qlora_trainer.train()`` (Bonus A) and back on for the final evaluation.

    Args:
        model: a model (or ``PeftModel``) loaded in 4-bit; other models are left alone.
        enabled: ``False`` while training, ``True`` for fast CPU inference afterwards.
    """
    if "bitsandbytes.nn" not in sys.modules:  # never imported, so no 4-bit layer exists (importing it takes 1.5 s)
        return 0
    from bitsandbytes.nn import Linear4bit

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
    autocast: bool = True,
) -> list[str]:
    """Greedy answers of ``model`` to customer messages, new text only.

    Each message becomes the task's prompt (system + user + generation prompt); batches are
    left-padded (a decoder-only model continues from the last position, so padding must not
    sit there); the tokenizer's ``padding_side`` is restored. The model must be in eval mode:
    ``from_pretrained`` returns it so, ``trainer.train()`` leaves it in training mode.
    An fp32 model generates under bf16 autocast where :func:`helpers.device.mixed_precision`
    says ``"bf16"`` (a CPU with native bf16 matmuls: about 1.5 × faster).

    Args:
        model: a causal LM or ``PeftModel``.
        tokenizer: its tokenizer.
        messages: customer messages (``str``).
        batch_size: prompts per ``generate`` call.
        max_new_tokens: generation budget per answer; generation stops earlier at ``<|im_end|>``.
        autocast: allow the bf16 autocast above; ``False`` generates in the model's own dtype (what a plain script
            does: the grader's check of the inference script compares with it).

    Returns:
        One decoded answer per message (special tokens removed, whitespace stripped).

    Raises:
        TypeError: ``messages`` is a single string instead of a sequence of strings.
        ValueError: the model is in training mode (call ``model.eval()`` first).
    """
    if isinstance(messages, str):
        raise TypeError("messages must be a sequence of strings, e.g. [message], not one string.")
    if model.training:
        raise ValueError("the model is in training mode (trainer.train() leaves it so): call model.eval() before "
                         "generating, or dropout layers would change every answer.")
    chats = [to_messages(m) for m in messages]
    answers: list[str] = []
    device = _model_device(model)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(chats), batch_size):
            batch = tokenizer.apply_chat_template(
                chats[start:start + batch_size], add_generation_prompt=True, tokenize=True,
                padding=True, return_tensors="pt", return_dict=True,
            ).to(device)
            speed_up = _generation_autocast(model, device) if autocast else contextlib.nullcontext()
            with torch.inference_mode(), speed_up:
                out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            new_tokens = out[:, batch["input_ids"].shape[1]:]
            answers += [a.strip() for a in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
    finally:
        tokenizer.padding_side = side
    return answers


def _generation_autocast(model: torch.nn.Module, device: torch.device):
    """bf16 autocast for an fp32, unquantized model on a CPU with native bf16 matmuls; else nothing."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    quantized = getattr(base, "hf_quantizer", None) is not None or getattr(base, "is_quantized", False)
    dtype = next(base.parameters()).dtype
    if device.type == "cpu" and not quantized and dtype == torch.float32 \
            and mixed_precision(device) == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# ------------------------------------------------------------------- checkpoints


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
