"""The grader's reference solution of 04 · LoRA challenge, also a training script (instructors only).

Learners write the ``LoraConfig``, ``TrainingArguments``, ``Trainer`` and the saving themselves in the challenge
notebook (the data set, the collator and the evaluation are given there); the grader scores with the reference
(:func:`checks.reference.evaluation.evaluate_answers`, :func:`checks.reference.recipe.default_lora_config` for the
catch-up) and the test suite uses the rest. It lives with the grader, not in ``helpers``, so no learner imports an
answer. Its modules, one concern each:

* :mod:`checks.reference.data`: the tokenized ticket splits and the collator;
* :mod:`checks.reference.recipe`: the LoRA configuration and the ``TrainingArguments`` (precision from
  :func:`helpers.device.mixed_precision`);
* :mod:`checks.reference.models`: SmolLM2 loaded and made trainable for a mode (lora, full, qlora);
* :mod:`checks.reference.evaluation`: greedy answers, scored;
* this module: the whole challenge end to end (:func:`train`) and its command.

As a script, the whole challenge in one command (LoRA, QLoRA or full fine-tuning)::

    python -m checks.reference.lora train [--epochs 3] [--limit 100] [--mode qlora] [--batch-size 4]
    accelerate launch --cpu --num_processes 2 --num_machines 1 --mixed_precision no --dynamo_backend no \\
        -m checks.reference.lora train --max-steps 2 --limit 32 --output-dir /tmp/adapter --results /tmp/r.json
"""

from __future__ import annotations

import argparse
import gc
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checks.reference.data import build_splits, data_collator, take_first
from checks.reference.evaluation import accelerate_state, evaluate_answers
from checks.reference.models import load_base_model, prepare_for_training
from checks.reference.recipe import FULL_LEARNING_RATE, default_training_arguments
from helpers.challenge.modes import MODES, check_mode
from helpers.challenge.results import update_results
from helpers.challenge.task import MAX_NEW_TOKENS, load_splits
from helpers.challenge.training import checkpoint_bytes, count_parameters, keep_answer_logits, set_cpu_4bit_repacking
from helpers.device import DEFAULT_SEED, pick_device, seed_everything
from helpers.memory import peak_memory
from helpers.models import CHAT_MODEL_ID
from helpers.paths import ADAPTER_DIR, FULL_MODEL_DIR, QLORA_ADAPTER_DIR, RESULTS_PATH, shown_path


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
        batch_size: per-device training batch (default :data:`checks.reference.recipe.TRAIN_BATCH_SIZE`).
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
        stays out of ``results_path``; compare strategies with
        :func:`helpers.challenge.memory_probe.measure_training_memory`.
    """
    from helpers.env import quiet_libraries

    quiet_libraries()  # before transformers imports bitsandbytes, whose CPU log line is noise
    from transformers import AutoTokenizer, Trainer

    check_mode(mode)
    strategy = mode
    evaluate_base = (mode == "lora") if evaluate_base is None else evaluate_base
    default_dirs = {"lora": ADAPTER_DIR, "qlora": QLORA_ADAPTER_DIR, "full": FULL_MODEL_DIR}
    adapter_dir = Path(output_dir) if output_dir is not None else default_dirs[mode]
    state = accelerate_state()
    device = state.device if state is not None else pick_device()
    main = state is None or state.is_main_process
    say = print if (verbose and main) else (lambda *a, **k: None)
    seed_everything(DEFAULT_SEED)

    path = model_path or CHAT_MODEL_ID
    tokenizer = AutoTokenizer.from_pretrained(path)
    data = build_splits(tokenizer, ("train",), limit=limit)
    loss_limit = eval_limit if loss_eval_limit is None else loss_eval_limit
    data["validation"] = build_splits(tokenizer, ("validation",), limit=loss_limit)["validation"]
    raw_validation = take_first(load_splits(("validation",))["validation"], eval_limit)

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
    parser = argparse.ArgumentParser(prog="python -m checks.reference.lora", description=__doc__.split("\n")[0])
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
    """Entry point of ``python -m checks.reference.lora``; returns the exit code."""
    args = _parser().parse_args(argv)
    train(epochs=args.epochs, max_steps=args.max_steps, limit=args.limit, eval_limit=args.eval_limit,
          loss_eval_limit=args.loss_eval_limit,
          mode=args.mode, batch_size=args.batch_size, output_dir=args.output_dir, results_path=args.results,
          evaluate_base=False if args.no_base_eval else None, max_new_tokens=args.max_new_tokens,
          gradient_checkpointing=args.gradient_checkpointing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
