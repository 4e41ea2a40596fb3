"""Training speed and memory: LoRA, QLoRA and full fine-tuning on one batch; the course's recipe against a naive one.

Every figure comes from the challenge's memory probe (:mod:`helpers.challenge.memory_probe`): one fresh process
per measurement, one step for the memory peak (after AdamW's state is created), then timed steps, all threads
of the machine.
"""

from __future__ import annotations

import torch

from checks.bench.report import Recipe, Training, TrainingMode

STEPS = 5
"""Training steps per measurement: 1 for the memory peak, 4 timed (the median is reported)."""
TICKETS = 4
"""Training tickets in the batch (the challenge's ``per_device_train_batch_size``)."""
NAIVE_MAX_LENGTH = 256
"""The naive recipe pads every ticket to this many tokens (``padding="max_length"``), as many tutorials do."""
NAIVE_DROPOUT = 0.1
NAIVE_PRECISION = "no"
"""The naive recipe trains without mixed precision (:data:`helpers.device.MIXED_PRECISIONS`), in fp32."""


def _row(result: dict, tokens: int) -> TrainingMode:
    return TrainingMode(
        mode=result["mode"], seconds_per_step=result["seconds_per_step"],
        tokens_per_s=round(tokens / result["seconds_per_step"], 1), peak_bytes=result["peak_bytes"],
        trainable_params=result["trainable_params"],
        batch=f"{result['batch_size']} x {result['sequence_length']} tokens",
    )


def measure_training() -> Training:
    """Measure the three strategies on the course's batch, then the naive recipe; one process each."""
    from transformers import AutoTokenizer

    from checks.reference.data import build_splits, data_collator
    from checks.reference.models import nf4_config
    from checks.reference.recipe import default_lora_config
    from helpers.challenge.memory_probe import measure_training_memory
    from helpers.challenge.training import keep_answer_logits
    from helpers.device import pick_device, precision, training_label
    from helpers.models import CHAT_MODEL_ID

    tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID)
    examples = [dict(e) for e in build_splits(tokenizer, ("train",), limit=TICKETS)["train"]]
    collator = keep_answer_logits(data_collator(tokenizer))
    batch = collator(examples)
    tokens = int(batch["attention_mask"].sum())
    config = default_lora_config()
    chosen = precision(pick_device())  # the probe's children train on this device, as the challenge's Trainer does
    nf4 = nf4_config(chosen.compute_dtype)  # the challenge's Bonus A
    modes = []
    for mode in ("lora", "qlora", "full"):
        print(f"    {mode} ...", end=" ", flush=True)
        result = measure_training_memory(
            mode, batch=batch, lora_config=config, steps=STEPS, mixed_precision=chosen.mixed_precision,
            quantization_config=nf4 if mode == "qlora" else None)
        modes.append(_row(result, tokens))
        print(f"{modes[-1].seconds_per_step:.2f} s/step", flush=True)
    peaks = {m.mode: m.peak_bytes for m in modes}
    ratios = {mode: round(peaks[mode] / peaks["full"], 3) for mode in ("lora", "qlora")}

    print("    naive recipe ...", end=" ", flush=True)
    padded = tokenizer.pad([{k: v for k, v in e.items() if k != "labels"} for e in examples], padding="max_length",
                           max_length=NAIVE_MAX_LENGTH, return_tensors="pt")
    labels = torch.full_like(padded["input_ids"], -100)
    for i, e in enumerate(examples):  # right padding: the real tokens come first
        labels[i, : len(e["labels"])] = torch.tensor(e["labels"])
    naive_batch = {**padded, "labels": labels}
    naive_config = default_lora_config(layers_to_transform=None, layers_pattern=None, lora_dropout=NAIVE_DROPOUT)
    naive = _row(measure_training_memory("lora", batch=naive_batch, lora_config=naive_config, steps=STEPS,
                                         mixed_precision=NAIVE_PRECISION), tokens)
    print(f"{naive.seconds_per_step:.2f} s/step", flush=True)
    course = modes[0]
    return Training(
        modes=modes, memory_ratios=ratios,
        recipe=Recipe(
            course=course, naive=naive, speedup=round(course.tokens_per_s / naive.tokens_per_s, 2),
            course_settings=(f"padding to the longest of the batch, adapters on blocks "
                             f"{min(config.layers_to_transform)}-{max(config.layers_to_transform)}, "
                             f"dropout {config.lora_dropout}, logits only where labels exist, "
                             f"{chosen.training}"),
            naive_settings=(f"padding to max_length={NAIVE_MAX_LENGTH}, adapters on all 30 blocks, "
                            f"dropout {NAIVE_DROPOUT}, logits at every position, {training_label(NAIVE_PRECISION)}"),
        ),
    )
