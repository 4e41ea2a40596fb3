"""The grader's reference solution of the challenge (checks/reference/): masking, collation, plans, the script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import helpers.device  # also: offline mode before any Hugging Face import
from checks.reference import data as ref_data
from checks.reference import recipe
from helpers.challenge import results as cr
from helpers.challenge.data import IGNORE_INDEX, _token_ids, build_dataset, show_labels
from helpers.challenge.task import format_record, load_splits
from helpers.device import mixed_precision
from helpers.paths import REPO_ROOT

END_OF_TURN = "<|im_end|>"


# ------------------------------------------------------------------ tokenization


def test_apply_chat_template_returns_a_batch_encoding_unless_asked(tokenizer, rows):
    """transformers 5: tokenize=True gives a BatchEncoding by default; tokenize_example copes with both."""
    chat = [{"role": "user", "content": rows[0]["message"]}]
    assert not isinstance(tokenizer.apply_chat_template(chat, tokenize=True), list)
    assert isinstance(tokenizer.apply_chat_template(chat, tokenize=True, return_dict=False), list)
    encoded = tokenizer.apply_chat_template(chat, tokenize=True)
    assert _token_ids(encoded) == tokenizer.apply_chat_template(chat, tokenize=True, return_dict=False)


def test_tokenize_example_masks_the_prompt_and_keeps_the_end_of_turn_label(tokenizer, rows):
    for row in rows:
        example = ref_data.tokenize_example(row, tokenizer)
        ids, labels = example["input_ids"], example["labels"]
        assert len(ids) == len(labels) == len(example["attention_mask"])
        assert set(example["attention_mask"]) == {1}
        answer = [t for t in labels if t != IGNORE_INDEX]
        assert tokenizer.decode(answer) == format_record(row) + END_OF_TURN
        start = len(ids) - len(answer)
        assert labels[:start] == [IGNORE_INDEX] * start  # prompt masked, contiguous
        assert ids[start:] == answer
        assert tokenizer.decode(ids[:start]).endswith("<|im_start|>assistant\n")
        assert ids[-1] == tokenizer.eos_token_id == tokenizer.pad_token_id == 2  # SmolLM2: pad == EOS


def test_tokenize_example_rejects_a_bad_record(tokenizer, rows):
    with pytest.raises(ValueError, match="urgent"):
        ref_data.tokenize_example({**rows[0], "urgent": "yes"}, tokenizer)


def test_build_splits_keeps_only_the_model_columns(tokenizer):
    data = ref_data.build_splits(tokenizer, limit=5)
    assert set(data) == {"train", "validation"}
    for split in data.values():
        assert len(split) == 5
        assert split.column_names == ["input_ids", "attention_mask", "labels"]
    with pytest.raises(ValueError, match="limit"):
        ref_data.build_splits(tokenizer, ("train",), limit=0)


# --------------------------------------------------------------------- collation


def test_the_given_dataset_has_the_asked_sizes_and_shows_its_masked_prompt(tokenizer):
    """helpers.challenge.data: the notebook's given data set, built with the reference's tokenization."""
    data = build_dataset(tokenizer, train_size=7, validation_size=3)
    assert set(data) == {"train", "validation"} and (len(data["train"]), len(data["validation"])) == (7, 3)
    assert data["train"].column_names == ["input_ids", "attention_mask", "labels"]
    assert data["train"][0] == ref_data.tokenize_example(dict(load_splits(("train",))["train"][0]), tokenizer)
    masked, learned = show_labels(data["train"][0], tokenizer).splitlines()
    assert "labelled -100" in masked and masked.endswith("<|im_start|>assistant\\n'")
    assert learned.endswith(f"{END_OF_TURN}'") and '"intent"' in learned
    with pytest.raises(ValueError, match="train_size"):
        build_dataset(tokenizer, train_size=0)


def test_collator_pads_and_keeps_eos_labels_where_the_lm_collator_drops_them(tokenizer, rows):
    from transformers import DataCollatorForLanguageModeling

    examples = [ref_data.tokenize_example(r, tokenizer) for r in rows]
    batch = ref_data.data_collator(tokenizer)(examples)
    longest = max(len(e["input_ids"]) for e in examples)
    assert {k: tuple(v.shape) for k, v in batch.items()} == {k: (len(rows), longest) for k in batch}
    for i, example in enumerate(examples):
        n = len(example["input_ids"])
        pad = slice(n, None) if tokenizer.padding_side == "right" else slice(0, longest - n)
        real = slice(0, n) if tokenizer.padding_side == "right" else slice(longest - n, None)
        assert batch["labels"][i, real].tolist() == example["labels"]  # EOS label kept
        assert set(batch["labels"][i, pad].tolist()) <= {IGNORE_INDEX}
        assert set(batch["attention_mask"][i, pad].tolist()) <= {0}
        assert set(batch["input_ids"][i, pad].tolist()) <= {tokenizer.pad_token_id}
    eos_labels = (batch["labels"] == tokenizer.eos_token_id).sum(dim=1)
    assert eos_labels.tolist() == [1] * len(rows)  # one end-of-turn label per answer

    wrong = DataCollatorForLanguageModeling(tokenizer, mlm=False)([{"input_ids": e["input_ids"]} for e in examples])
    assert (wrong["labels"] == tokenizer.eos_token_id).sum() == 0  # the model would never learn to stop
    assert (wrong["labels"][:, 0] != IGNORE_INDEX).all()  # and it would train on the prompt


# -------------------------------------------------------------- device decisions


@pytest.mark.parametrize(("native", "precision"), [(True, "bf16"), (False, "fp16")])
def test_cuda_plan_takes_the_devices_precision_and_searches_the_batch(monkeypatch, native, precision):
    """The plan's precision is helpers.device's decision (bf16 on Ampere and newer, fp16 before), not its own."""
    monkeypatch.setattr(helpers.device, "cuda_bf16_native", lambda device=None: native)
    plan = recipe.training_plan("cuda")
    assert plan.mixed_precision == precision == mixed_precision("cuda")
    assert plan.auto_find_batch_size and not plan.use_cpu
    assert plan.per_device_train_batch_size * plan.gradient_accumulation_steps == recipe.TRAIN_BATCH_SIZE
    kwargs = plan.training_kwargs()
    assert (kwargs["bf16"], kwargs["fp16"]) == (precision == "bf16", precision == "fp16")


def test_mps_plan_trains_without_mixed_precision_with_batch_search():
    plan = recipe.training_plan("mps")
    assert (plan.mixed_precision, plan.use_cpu, plan.auto_find_batch_size) == ("no", False, True)
    assert plan.per_device_eval_batch_size == 16
    assert not plan.training_kwargs()["bf16"] and not plan.training_kwargs()["fp16"]


@pytest.mark.parametrize(("native", "precision"), [(False, "no"), (True, "bf16")])
def test_cpu_plan_forces_cpu_without_batch_search(monkeypatch, native, precision):
    monkeypatch.setattr(helpers.device, "cpu_bf16_native", lambda **kwargs: native)
    plan = recipe.training_plan(torch.device("cpu"), batch_size=4)
    assert (plan.mixed_precision, plan.use_cpu, plan.auto_find_batch_size) == (precision, True, False)
    assert plan.per_device_train_batch_size == 4
    assert plan.training_kwargs()["bf16"] is native and not plan.training_kwargs()["fp16"]


@pytest.mark.parametrize(("device", "batch"), [("tpu", None), ("xpu", None), ("cpu", 0), ("cpu", True)])
def test_plan_rejects_unknown_devices_and_bad_batches(device, batch):
    with pytest.raises(ValueError):
        recipe.training_plan(device, batch_size=batch)


def test_a_plan_outside_the_vocabulary_is_refused():
    plan = recipe.TrainingPlan("cpu", "fp32", 4, 32, 1, False, True)
    with pytest.raises(ValueError, match="use one of 'bf16', 'fp16', 'no'"):
        plan.training_kwargs()


def test_default_training_arguments_on_cpu(tmp_path):
    args = recipe.default_training_arguments(tmp_path, device="cpu")
    assert args.use_cpu and args.bf16 is (mixed_precision("cpu") == "bf16") and not args.fp16
    assert args.eval_strategy == "epoch" and args.save_strategy == "no"
    assert args.logging_strategy == "steps" and args.logging_steps == recipe.LOGGING_STEPS
    assert args.report_to in ([], "none", ["none"])
    assert args.num_train_epochs == 3 and args.learning_rate == recipe.LEARNING_RATE and args.warmup_steps == 0.1
    assert args.per_device_train_batch_size == recipe.TRAIN_BATCH_SIZE and not args.auto_find_batch_size
    overridden = recipe.default_training_arguments(tmp_path, device="cpu", num_train_epochs=1, logging_steps=1)
    assert (overridden.num_train_epochs, overridden.logging_steps) == (1, 1)


def test_default_training_arguments_follow_the_cuda_plan(tmp_path, monkeypatch):
    """The CUDA branch end to end, with the plan swapped for one the CPU can build TrainingArguments for."""
    seen = {}

    def fake_plan(device, **kwargs):
        seen["device_type"] = torch.device(device).type
        return recipe.TrainingPlan("cpu", "no", 8, 32, 1, True, True)

    monkeypatch.setattr(recipe, "training_plan", fake_plan)
    args = recipe.default_training_arguments(tmp_path, device="cuda")
    assert seen == {"device_type": "cuda"}
    assert args.auto_find_batch_size and args.per_device_eval_batch_size == 32 and args.per_device_train_batch_size == 8


def test_default_lora_config_and_overrides():
    config = recipe.default_lora_config()
    assert config.task_type == "CAUSAL_LM" and config.r == 16 and config.lora_alpha == 32
    assert set(config.target_modules) == set(recipe.TARGET_MODULES)
    assert config.layers_to_transform == list(recipe.ADAPTED_LAYERS) == list(range(22, 30))
    small = recipe.default_lora_config(r=8, target_modules=["q_proj", "v_proj"])
    assert small.r == 8 and set(small.target_modules) == {"q_proj", "v_proj"}


# ------------------------------------------------------------- distributed script


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path):
    """``accelerate launch --cpu`` with two processes (gloo, no config file) trains, saves and records."""
    adapter, results = tmp_path / "adapter", tmp_path / "results.json"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "checks.reference.lora", "train", "--max-steps", "2", "--limit", "32", "--eval-limit", "8",
               "--max-new-tokens", "40", "--output-dir", str(adapter), "--results", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("lora: exact match") == 1  # only the main process prints
    data = json.loads(results.read_text())
    assert data["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert data["metrics"].keys() == {"base", "lora"}
    assert set(data["metrics"]["lora"]) >= {"exact_match", "valid_json", "field_accuracy"}
    assert data["trainable_params"] == {"lora": 1_302_528} and data["total_params"] > 134_000_000
    assert data["checkpoint_bytes"]["lora"] == (adapter / "adapter_model.safetensors").stat().st_size
    assert data["train_seconds"]["lora"] > 0 and "peak_memory_bytes" not in data  # in-process peaks stay out
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 16
    assert cr.load_challenge_results(results).strategies["lora"].trainable_params == 1_302_528
