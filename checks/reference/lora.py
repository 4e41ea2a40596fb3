"""The grader's reference solution of 04 · LoRA challenge, also a training script (instructors only).

Learners write the ``LoraConfig``, ``TrainingArguments``, ``Trainer`` and the saving themselves in the challenge
notebook (the data set, the collator and the evaluation are given there); the grader scores with these functions
(``evaluate_answers``, ``default_lora_config`` for the catch-up) and the test suite uses the rest. It lives with the
grader, not in ``helpers``, so no learner imports an answer.

As a script, the whole challenge in one command (LoRA, QLoRA or full fine-tuning)::

    python checks/reference/lora.py train [--epochs 3] [--limit 100] [--mode qlora] [--batch-size 4]
    accelerate launch --cpu --num_processes 2 --num_machines 1 --mixed_precision no --dynamo_backend no \\
        checks/reference/lora.py train --max-steps 2 --limit 32 --output-dir /tmp/adapter --results /tmp/r.json

The model learns only the answer: every prompt token is labelled ``-100`` and the answer's
end-of-turn token ``<|im_end|>`` is kept as a label, so the fine-tuned model stops after the JSON.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from helpers.challenge.data import tokenize_ticket
from helpers.challenge.memory_probe import MODES, _prepare_for_mode
from helpers.challenge.pace import DEFAULT_LAYERS
from helpers.challenge.results import update_results
from helpers.challenge.task import MAX_NEW_TOKENS, load_splits, score
from helpers.challenge.training import (
    GENERATION_BATCH_SIZE,
    IGNORE_INDEX,
    checkpoint_bytes,
    count_parameters,
    generate_answers,
    keep_answer_logits,
    set_cpu_4bit_repacking,
)
from helpers.device import DEFAULT_SEED, compute_dtype, mixed_precision, pick_device, pick_dtype, seed_everything
from helpers.env import progress_bars_off
from helpers.memory import peak_memory
from helpers.models import CHAT_MODEL_ID
from helpers.paths import ADAPTER_DIR, FULL_MODEL_DIR, QLORA_ADAPTER_DIR, RESULTS_PATH, shown_path

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from peft import LoraConfig
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainingArguments

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


# ----------------------------------------------------------------------------- data


tokenize_example = tokenize_ticket
"""Token ids and loss labels of one ticket (:func:`helpers.challenge.data.tokenize_ticket`): the notebook's data set is
given, built by the same function."""


def _first(dataset: Dataset, limit: int | None) -> Dataset:
    if limit is None:
        return dataset
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    return dataset.select(range(min(limit, len(dataset))))


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
    with progress_bars_off():
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
      matmuls, :func:`helpers.device.cpu_bf16_native`) else fp32, batch 4, evaluation batch 32, no
      batch-size search (a CPU out-of-memory kills the process).

    Args:
        device_type: ``"cuda"``, ``"mps"`` or ``"cpu"`` (``torch.device(...).type``).
        bf16_supported: whether the device computes in bfloat16 natively (GPU:
            ``torch.cuda.is_bf16_supported()``; CPU: :func:`helpers.device.cpu_bf16_native`); ignored on MPS.
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
    plan = training_plan(target.type, bf16_supported=mixed_precision(target) == "bf16", batch_size=batch_size)
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

    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}.")
    target = torch.device(device) if device is not None else pick_device()
    path = model_path or CHAT_MODEL_ID
    with progress_bars_off():
        if mode == "qlora":
            from transformers import BitsAndBytesConfig

            from helpers.env import silence_bitsandbytes

            silence_bitsandbytes()
            config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                        bnb_4bit_compute_dtype=compute_dtype(target))
            return AutoModelForCausalLM.from_pretrained(
                path, quantization_config=config, dtype=pick_dtype(target), device_map={"": target}
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
    return _prepare_for_mode(model, mode, lora_config or default_lora_config(),
                            gradient_checkpointing=gradient_checkpointing)


def evaluate_answers(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    dataset: Dataset | Sequence[Mapping[str, Any]],
    *,
    batch_size: int = GENERATION_BATCH_SIZE,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> dict[str, Any]:
    """Generate an answer for every ticket of ``dataset`` and score it.

    Under ``accelerate launch`` each process answers its share of the tickets and the
    answers are gathered, in order, on every process.

    Args:
        model, tokenizer, max_new_tokens: as in :func:`generate_answers`.
        batch_size: prompts per ``generate`` call (default :data:`GENERATION_BATCH_SIZE`).
        dataset: raw tickets (``message`` plus the four fields), e.g. ``load_splits()["validation"]``.

    Returns:
        :func:`helpers.challenge.task.score`'s dict: ``exact_match``, ``valid_json``
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
        The run's results (schema of :class:`helpers.challenge.results.ResultsFile`), plus ``"log_history"``
        (the Trainer's logged losses) and ``"train_peak_memory_bytes"``, neither written to the
        file. Every process returns them. ``train_peak_memory_bytes`` is the whole process's peak
        resident memory during ``trainer.train()`` with the default allocator (in a notebook it
        includes whatever the kernel already holds), so it is not comparable between runs and
        stays out of ``results_path``; compare strategies with :func:`measure_training_memory`.
    """
    from helpers.env import quiet_libraries

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

    path = model_path or CHAT_MODEL_ID
    tokenizer = AutoTokenizer.from_pretrained(path)
    data = build_splits(tokenizer, ("train",), limit=limit)
    loss_limit = eval_limit if loss_eval_limit is None else loss_eval_limit
    data["validation"] = build_splits(tokenizer, ("validation",), limit=loss_limit)["validation"]
    raw_validation = _first(load_splits(("validation",))["validation"], eval_limit)

    model = load_base_model(path, mode=strategy, device=device)
    results: dict[str, Any] = {"base_model": str(path), "metrics": {}}
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
                      data_collator=keep_answer_logits(data_collator(tokenizer)), processing_class=tokenizer)
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
    model = trainer.model.eval()  # trainer.train() leaves it in training mode
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
            f"saved to {shown_path(adapter_dir)}")
    if state is not None:
        state.wait_for_everyone()
    results["log_history"] = list(trainer.state.log_history)
    return results


# --------------------------------------------------------------------------- CLI


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python checks/reference/lora.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="fine-tune with LoRA (or QLoRA), evaluate, save the adapter")
    run.add_argument("--epochs", type=_positive_int, default=3)
    run.add_argument("--max-steps", type=_positive_int, default=None, help="stop after N steps (quick tests)")
    run.add_argument("--limit", type=_positive_int, default=None, help="train on the first N tickets")
    run.add_argument("--eval-limit", type=_positive_int, default=None, help="evaluate on the first N tickets")
    run.add_argument("--loss-eval-limit", type=_positive_int, default=None,
                     help="validation tickets for the per-epoch loss (default: --eval-limit)")
    run.add_argument("--output-dir", type=Path, default=None,
                     help=f"adapter folder (default {shown_path(ADAPTER_DIR)})")
    run.add_argument("--results", type=Path, default=RESULTS_PATH, help="results JSON to merge into")
    run.add_argument("--mode", choices=MODES, default="lora",
                     help="lora; qlora (4-bit NF4 base); full (every weight, whole model saved)")
    run.add_argument("--batch-size", type=_positive_int, default=None, help="per-device training batch")
    run.add_argument("--no-base-eval", action="store_true", help="skip scoring the base model")
    run.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations (less memory)")
    run.add_argument("--max-new-tokens", type=_positive_int, default=MAX_NEW_TOKENS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python checks/reference/lora.py``; returns the exit code."""
    args = _parser().parse_args(argv)
    train(epochs=args.epochs, max_steps=args.max_steps, limit=args.limit, eval_limit=args.eval_limit,
          loss_eval_limit=args.loss_eval_limit,
          mode=args.mode, batch_size=args.batch_size, output_dir=args.output_dir, results_path=args.results,
          evaluate_base=False if args.no_base_eval else None, max_new_tokens=args.max_new_tokens,
          gradient_checkpointing=args.gradient_checkpointing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
