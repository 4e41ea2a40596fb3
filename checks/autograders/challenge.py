"""Autograder for 04 · LoRA challenge: fine-tune SmolLM2 to extract a JSON record from tickets.

The checks never trust what the notebook prints or writes about itself. They tokenize the
tickets themselves and compare token by token; they apply the learner's ``LoraConfig`` to a
model of their own; they feed ``evaluate_model`` a scripted model whose answers they know; they
run the learner's collator on real rows; they load the saved adapter on a fresh base model of
their own and **recompute exact match on the test split**, which the notebook never sees; and
they compare ``results.json`` with the notebook's own variables. Paths are read from the
notebook (``ADAPTER_DIR``, ``RESULTS_PATH`` ...), so a learner may save elsewhere.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from grader import Part, expect, prerequisite, require
from grader.expectations import expect_nf4_config
from helpers.challenge.results import ResultsError, read_results
from helpers.challenge.task import MAX_NEW_TOKENS
from helpers.models import CHAT_MODEL_ID
from helpers.paths import CACHE_DIR

NOTEBOOK = "04_challenge"
part = Part("challenge")

T1 = "Task 1: build_dataset"
T2 = "Task 2: make_lora_config"
T3 = "Task 3: evaluate_model"
T4 = "Task 4: train"
T5 = "Task 5: save and reload"
T6 = "Task 6: memory and results"
B1 = "Bonus: QLoRA"
B2 = "Bonus: LoRA vs full fine-tuning"
B3 = "Bonus: inference script"
B4 = "Bonus: push to the Hub"

MIN_TRAIN = 100
"""The challenge asks for at least 100 training tickets."""
MIN_EPOCHS = 3
MAX_TRAINABLE_SHARE = 0.05
"""LoRA must train well under 5 % of the parameters."""
MIN_GAIN = 0.25
"""Exact match on the test split must beat the base model's by at least 25 points."""
MAX_TEST_LEAD = 0.25
"""How far the test score may exceed the validation score. Honest adapters score within sampling noise of each
other on the 100 test and 60 validation tickets (standard deviation of the difference about 0.075 at 70 %), so a
lead above 0.25 (3.3 standard deviations) means the adapter has seen test tickets."""
MAX_MEMORY_RATIO = 0.7
"""LoRA's peak training memory must be below 0.7 x full fine-tuning's (the issue's criterion)."""
BASE_SCORE_CACHE = CACHE_DIR / "challenge_base_score.json"
"""The base model's test score, keyed by what it depends on; recomputed whenever the key differs
(checks/tests/test_challenge_grader.py recomputes it and compares). Under build/, never in the source tree."""
NEW_MESSAGES = (
    "my phone from order ZT-31415 stopped charging after two days, I need a replacement today",
    "Could you change the delivery address for the tablet in order MB-27182? I moved last week.",
    "do you sell a monitor with usb-c?",
)
"""Messages the learner never saw. Each names one of the task's products, as every ticket does: a message without
one asks the model for a product it cannot know (an AVX-512 BF16 run answered "delivery_status")."""


# --------------------------------------------------------------------------- the grader's own tools

REFERENCE_PATH = Path(__file__).resolve().parents[1] / "reference" / "lora.py"
"""The grader's reference solution (checks/reference/lora.py): never in anything a learner imports."""


@functools.cache
def _reference():
    """``checks/reference/lora.py`` as a module, loaded by path (``checks/`` is not a package on sys.path)."""
    import importlib.util

    name = "workshop_reference.lora"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(CHAT_MODEL_ID)


@functools.cache
def _raw_splits():
    from helpers.challenge.task import load_splits

    return load_splits()


@functools.cache
def _reference_examples() -> dict[tuple[int, ...], list[int]]:
    """``input_ids -> labels`` of every train and validation ticket, tokenized the reference way."""
    tokenize_example = _reference().tokenize_example
    table = {}
    for split in ("train", "validation"):
        for row in _raw_splits()[split]:
            example = tokenize_example(row, _tokenizer())
            table[tuple(example["input_ids"])] = example["labels"]
    return table


def _fresh_base(dtype=torch.float32):
    from transformers import AutoModelForCausalLM

    from helpers.env import progress_bars_off

    with progress_bars_off():
        return AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=dtype)


@functools.cache
def _meta_model():
    """SmolLM2's architecture on the meta device: module names and parameter counts, no memory."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(CHAT_MODEL_ID)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def _adapter_dir(ns) -> Path:
    value = require(ns, "ADAPTER_DIR")
    expect(isinstance(value, str | os.PathLike), f"ADAPTER_DIR should be a path, got {type(value).__name__}.")
    return Path(value)


def _signature(adapter_dir: Path) -> tuple[str, str]:
    """``(folder, digest of its adapter files)``: the same weights saved in two folders are scored once."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_dir / name).read_bytes())
    return str(adapter_dir.resolve()), digest.hexdigest()


def _base_cache_key() -> str:
    """What the base model's test score depends on: model files, test tickets, generation settings."""
    import hashlib

    from helpers.challenge.task import split_path
    from helpers.models import local_revision

    digest = hashlib.sha256()
    digest.update(f"{CHAT_MODEL_ID}@{local_revision(CHAT_MODEL_ID)}".encode())  # the snapshot names its files
    digest.update(split_path("test").read_bytes())
    from helpers.device import mixed_precision, pick_device

    precision = mixed_precision(pick_device())  # generation runs under bf16 autocast where it says "bf16"
    digest.update(f"{MAX_NEW_TOKENS}|{torch.__version__}|{precision}".encode())
    return digest.hexdigest()


def compute_base_test_score() -> float:
    """The base model's exact match on the 100 test tickets, computed now (about 15 s on a CPU)."""
    return _reference().evaluate_answers(_fresh_base(), _tokenizer(), _raw_splits()["test"],
                            max_new_tokens=MAX_NEW_TOKENS)["exact_match"]


def _stored_base_scores() -> dict[str, float]:
    """``{key: exact_match}`` from :data:`BASE_SCORE_CACHE`; empty when it is missing or unreadable."""
    try:
        scores = json.loads(BASE_SCORE_CACHE.read_text()).get("scores", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {k: float(v) for k, v in scores.items() if isinstance(v, float | int)} if isinstance(scores, dict) else {}


@functools.cache
def _base_test_score() -> float:
    """The base model's exact match on the test split, from :data:`BASE_SCORE_CACHE` when it has the key.

    The base model and the test tickets never change, so their generation (15 s with bf16
    autocast, about 50 s on an AVX2-only CPU) is not repeated at every grading. The file keeps
    one score per key, so CPUs with and without bf16 instructions (whose greedy answers may
    differ) each find theirs; any change of model files, tickets, settings or torch version
    changes the key and the score is computed again (and added, if the file is writable).
    """
    key = _base_cache_key()
    scores = _stored_base_scores()
    if key in scores:
        return scores[key]
    score = compute_base_test_score()
    try:
        BASE_SCORE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        BASE_SCORE_CACHE.write_text(json.dumps({"scores": {**scores, key: score}}, indent=1) + "\n")
    except OSError:  # a read-only checkout still grades, only slower
        pass
    return score


_SCORES: dict[tuple[str, str], dict[str, Any]] = {}


def _adapter_scores(signature: tuple[str, str], split: str = "test") -> dict[str, Any]:
    """The grader's own scores of the adapter at ``signature[0]`` on ``split`` (computed once per file content)."""
    from peft import PeftModel

    key = (signature[1], split)
    if key not in _SCORES:
        # merged into the fresh base: the same weights, without the adapters' extra matmuls at every token
        model = PeftModel.from_pretrained(_fresh_base(), signature[0]).merge_and_unload()
        _SCORES[key] = _reference().evaluate_answers(model, _tokenizer(), _raw_splits()[split],
                                                     max_new_tokens=MAX_NEW_TOKENS)
    return _SCORES[key]


def _pct(value: float) -> str:
    return f"{value:.0%}"


# --------------------------------------------------------------------------- Task 1

DATASET_CHECK = "build_dataset returns a DatasetDict with train (at least 100 tickets) and validation"
FORMAT_CHECK = "each example is the chat template's text of a ticket: prompt, answer, <|im_end|>"
LABELS_CHECK = "the labels mask the prompt with -100 and keep the answer and its <|im_end|>"


def _dataset(ns):
    from datasets import DatasetDict

    from helpers.env import progress_bars_off

    build_dataset = require(ns, "build_dataset", callable)
    with progress_bars_off():
        dataset = build_dataset()
    expect(isinstance(dataset, DatasetDict),
           f"build_dataset() returned {type(dataset).__name__}, not a DatasetDict.")
    return dataset


@part.check(DATASET_CHECK, task=T1,
            hint="Load the splits with load_splits((\"train\", \"validation\")), keep the first TRAIN_SIZE training "
                 "tickets with .select(range(TRAIN_SIZE)) and map both splits with your tokenize function.")
def _dataset_shape(ns):
    dataset = _dataset(ns)
    for split in ("train", "validation"):
        expect(split in dataset, f"build_dataset() has the splits {list(dataset)}: it needs '{split}'.")
    expect("test" not in dataset, "build_dataset() includes the test split: the test tickets are for the grader only.")
    expect(len(dataset["train"]) >= MIN_TRAIN,
           f"the train split has {len(dataset['train'])} examples: the challenge needs at least {MIN_TRAIN}.")
    expect(len(dataset["validation"]) > 0, "the validation split is empty.")
    for split in ("train", "validation"):
        columns = set(dataset[split].column_names)
        expect({"input_ids", "attention_mask", "labels"} <= columns,
               f"the {split} split has the columns {sorted(columns)}: it needs input_ids, attention_mask and labels.")
        extra = columns - {"input_ids", "attention_mask", "labels"}
        expect(not extra, f"the {split} split still has the text columns {sorted(extra)}: the collator cannot pad "
                          "strings. Pass remove_columns=... to map.")


def _rows(ns, count: int = 12):
    dataset = _dataset(ns)
    expect("train" in dataset and len(dataset["train"]) > 0 and "labels" in dataset["train"].column_names,
           f"there is no tokenized train split to inspect {prerequisite(DATASET_CHECK)}.")
    train = dataset["train"]
    return [train[i] for i in range(min(count, len(train)))]


@part.check(FORMAT_CHECK, task=T1,
            hint="Tokenize to_messages(message, row) with tokenizer.apply_chat_template(..., tokenize=True, "
                 "return_dict=False); the prompt part is the same call on to_messages(message) with "
                 "add_generation_prompt=True. Cut the answer after <|im_end|> (the template adds a newline).")
def _format(ns):
    tokenizer = _tokenizer()
    references = _reference_examples()
    for row in _rows(ns):
        ids = tuple(int(i) for i in row["input_ids"])
        if ids in references:
            continue
        text = tokenizer.decode(list(ids))
        if "<|im_start|>assistant" not in text:
            expect(False, f"an example is not in the chat format: {text[:120]!r}. Use tokenizer.apply_chat_template "
                          "with to_messages(...), the format SmolLM2-Instruct was trained on.")
        if ids[-1] != tokenizer.eos_token_id:
            tail = tokenizer.decode(list(ids[-3:]))
            expect(False, f"an example ends with {tail!r} instead of <|im_end|>: cut the answer right after the "
                          "end-of-turn token (the template's newline after it is not part of the answer).")
        if ids and ids[0] == tokenizer.bos_token_id and tokenizer.bos_token_id is not None:
            expect(False, "an example starts with an extra BOS token.")
        expect(False, f"an example does not match the ticket's chat: {text[:160]!r}. Use to_messages(row['message'], "
                      "row) (system prompt, message, canonical JSON answer) with the chat template.")


@part.check(LABELS_CHECK, task=T1,
            hint="labels = [-100] * len(prompt_ids) + answer_ids, where answer_ids ends with tokenizer.eos_token_id "
                 "(<|im_end|>). -100 is the index the cross-entropy loss ignores.")
def _labels(ns):
    tokenizer = _tokenizer()
    references = _reference_examples()
    checked = 0
    for row in _rows(ns):
        ids = tuple(int(i) for i in row["input_ids"])
        expected = references.get(ids)
        if expected is None:
            continue
        labels = [int(label) for label in row["labels"]]
        expect(len(labels) == len(ids), f"an example has {len(ids)} input_ids but {len(labels)} labels.")
        checked += 1
        if labels == expected:
            continue
        prompt_length = expected.index(next(label for label in expected if label != -100))
        if all(label != -100 for label in labels[:prompt_length]):
            expect(False, "the prompt tokens carry labels: the model would spend its training on predicting the "
                          "system prompt and the customer's message. Set them to -100.")
        if labels[-1] == -100 and expected[-1] == tokenizer.eos_token_id:
            expect(False, "the last label (<|im_end|>) is -100: the model never learns to stop after the JSON. "
                          "Keep the end-of-turn token as a label.")
        expect(False, f"the labels differ from the expected ones: expected {expected[prompt_length - 2:]} from "
                      f"position {prompt_length - 2}, got {labels[prompt_length - 2:]}.")
    expect(checked > 0, f"no example to check the labels of {prerequisite(FORMAT_CHECK)}.")


# --------------------------------------------------------------------------- Task 2

CONFIG_CHECK = "make_lora_config returns a LoraConfig for a causal LM"
TARGETS_CHECK = "the LoRA target modules exist in SmolLM2"
SHARE_CHECK = "LoRA trains well under 5 % of the parameters"


def _config(ns):
    from peft import LoraConfig

    make_lora_config = require(ns, "make_lora_config", callable)
    config = make_lora_config()
    expect(isinstance(config, LoraConfig), f"make_lora_config() returned {type(config).__name__}, not a LoraConfig.")
    return config


@part.check(CONFIG_CHECK, task=T2,
            hint="LoraConfig(task_type=\"CAUSAL_LM\", r=..., lora_alpha=..., lora_dropout=..., target_modules=[...]).")
def _config_type(ns):
    config = _config(ns)
    task_type = getattr(config.task_type, "value", config.task_type)
    expect(task_type == "CAUSAL_LM",
           f"task_type is {task_type!r}: SmolLM2 is a causal LM, so task_type must be \"CAUSAL_LM\" (PEFT then "
           "wraps it as PeftModelForCausalLM, which generates and shifts the labels).")
    expect(isinstance(config.r, int) and config.r >= 1, f"r is {config.r!r}: the rank is a positive int.")
    expect(isinstance(config.lora_alpha, int | float) and config.lora_alpha > 0,
           f"lora_alpha is {config.lora_alpha!r}: a positive number (commonly r or 2 r).")
    expect(0 <= config.lora_dropout < 0.5, f"lora_dropout is {config.lora_dropout!r}: between 0 and 0.5.")


def _apply(config):
    import copy

    from peft import get_peft_model

    return get_peft_model(copy.deepcopy(_meta_model()), copy.deepcopy(config))


@part.check(TARGETS_CHECK, task=T2,
            hint="print(model) shows SmolLM2's layer names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                 "down_proj. Names from other architectures (query, value, c_attn) match nothing here.")
def _targets(ns):
    config = _config(ns)
    try:
        _apply(config)
    except ValueError as err:
        expect(False, f"PEFT cannot apply the config to SmolLM2: {str(err).splitlines()[0]}")


@part.check(SHARE_CHECK, task=T2,
            hint="The share grows with r and with the number of adapted layers. r=8-16 on the attention and MLP "
                 "projections stays near 1 %; modules_to_save=[\"lm_head\"] would add 28 M trainable weights.")
def _share(ns):
    config = _config(ns)
    try:
        model = _apply(config)
    except ValueError:
        expect(False, f"the config cannot be applied {prerequisite(TARGETS_CHECK)}.")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    share = trainable / total
    expect(trainable > 0, "the config trains no parameter.")
    expect(share < MAX_TRAINABLE_SHARE,
           f"{trainable:,} of {total:,} parameters are trainable ({share:.1%}): keep it well under 5 %.")


# --------------------------------------------------------------------------- Task 3

EVALUATE_CHECK = "evaluate_model scores greedy answers by exact match, valid JSON and per-field accuracy"


class _ScriptedModel(torch.nn.Module):
    """A stand-in for a causal LM whose ``generate`` answers each ticket with a known text."""

    def __init__(self, answers: dict[str, str]):
        super().__init__()
        self.answers = answers
        self.anchor = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
        self.calls = 0
        self.config = _meta_model().config
        self.generation_config = _meta_model().generation_config

    @property
    def device(self):
        return torch.device("cpu")

    @property
    def dtype(self):
        return torch.float32

    def generate(self, input_ids=None, attention_mask=None, **kwargs):
        self.calls += 1
        tokenizer = _tokenizer()
        rows = []
        for ids in input_ids.tolist():
            prompt = tokenizer.decode(ids)
            message = next((m for m in self.answers if m in prompt), None)
            answer = self.answers.get(message, "I cannot help with that.")
            rows.append(ids + tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id])
        width = max(len(r) for r in rows)
        return torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in rows])


def _scripted_case():
    from helpers.challenge.task import format_record

    rows = [dict(r) for r in _raw_splits()["validation"].select(range(6))]
    answers = {}
    for i, row in enumerate(rows):
        record = format_record(row)
        if i == 1:  # the same record with spaces and another key order: still exactly right
            parsed = json.loads(record)
            record = json.dumps(dict(reversed(list(parsed.items()))), indent=1)
        elif i == 3:
            parsed = json.loads(record)
            parsed["urgent"] = not parsed["urgent"]
            record = json.dumps(parsed)
        elif i == 4:
            record = "Sure! The intent is " + row["intent"]
        answers[row["message"]] = record
    return rows, answers


@part.check(EVALUATE_CHECK, task=T3,
            hint="Generate one answer per message (greedy), then score with the json_extraction metric: "
                 "evaluate.load(metric_path(\"json_extraction\")).compute(predictions=answers, "
                 "references=[format_record(row) for row in dataset]). It parses the JSON, so key order and "
                 "spaces do not matter, and it counts valid JSON separately.")
def _evaluate(ns):
    from datasets import Dataset

    from helpers.challenge.task import score

    evaluate_model = require(ns, "evaluate_model", callable)
    rows, answers = _scripted_case()
    model = _ScriptedModel(answers).eval()
    result = evaluate_model(model, _tokenizer(), Dataset.from_list(rows))
    expect(model.calls > 0, "evaluate_model did not call model.generate: it must answer with the model it is given.")
    expect(isinstance(result, dict), f"evaluate_model returned {type(result).__name__}, not a dict.")
    for key in ("exact_match", "valid_json", "field_accuracy"):
        expect(key in result, f"evaluate_model's result has the keys {sorted(result)}: it needs '{key}'.")
    expected = score([answers[r["message"]] for r in rows], rows)
    for key in ("exact_match", "valid_json"):
        expect(isinstance(result[key], int | float) and math.isclose(result[key], expected[key], abs_tol=1e-6),
               f"on six scripted answers {key} should be {expected[key]:.3f}, got {result[key]!r}. (Two answers are "
               "right, one of them with spaces and another key order; one has a wrong field; one is no JSON.)")
    expect(isinstance(result["field_accuracy"], dict) and all(
        math.isclose(result["field_accuracy"].get(f, -1), v, abs_tol=1e-6)
        for f, v in expected["field_accuracy"].items()),
        f"field_accuracy should be {expected['field_accuracy']}, got {result['field_accuracy']!r}.")


# --------------------------------------------------------------------------- Task 4

TRAINING_CHECK = "trainer trained LoRA for at least 3 epochs with a validation loss after every epoch"
LEAK_CHECK = "the trainer trained on no ticket of the hidden test split"
COLLATOR_CHECK = "the trainer's collator pads without masking the real <|im_end|> labels"


def _trainer(ns):
    from transformers import Trainer

    return require(ns, "trainer", Trainer)


def _epochs_trained(trainer) -> float:
    """Epochs the trainer really ran: its optimizer steps over the steps one epoch takes, never more than it logged.

    ``trainer.state.epoch`` is a field any cell can set; the step count, the batch size and the
    data set's length (the Trainer's own arithmetic: ``ceil(n / batch) // accumulation`` steps per
    epoch) and the epochs of the log history it wrote while training must agree with it.
    """
    args, state = trainer.args, trainer.state
    n = len(trainer.train_dataset) if trainer.train_dataset is not None else 0
    batch = max(1, args.per_device_train_batch_size) * max(1, getattr(args, "world_size", 1) or 1)
    steps_per_epoch = max(1, math.ceil(n / batch) // max(1, args.gradient_accumulation_steps))
    logged = [h.get("epoch", 0) or 0 for h in state.log_history if isinstance(h, dict)]
    return min(state.epoch or 0, state.global_step / steps_per_epoch, max(logged, default=0))


def _leaked_tickets(dataset) -> int:
    """How many hidden test tickets appear in ``dataset`` (its raw messages, or its decoded ``input_ids``)."""
    texts: list[str] = []
    if dataset is None:
        return 0
    if "message" in dataset.column_names:
        texts += [str(m) for m in dataset["message"]]
    if "input_ids" in dataset.column_names:
        tokenizer = _tokenizer()
        texts += [tokenizer.decode(list(ids)) for ids in dataset["input_ids"]]
    blob = "\n".join(texts)
    return sum(1 for row in _raw_splits()["test"] if row["message"] in blob)


@part.check(TRAINING_CHECK, task=T4,
            hint="TrainingArguments(num_train_epochs=EPOCHS, eval_strategy=\"epoch\", learning_rate=4e-3, ...), "
                 "Trainer(model=model, ..., eval_dataset=the validation tickets), then trainer.train().")
def _training(ns):
    from peft import PeftModel

    trainer = _trainer(ns)
    expect(isinstance(trainer.model, PeftModel),
           f"trainer.model is a {type(trainer.model).__name__}: train the PeftModel from get_peft_model.")
    expect(trainer.state.global_step > 0, "the trainer has not trained: run trainer.train().")
    epochs = _epochs_trained(trainer)
    expect(epochs >= MIN_EPOCHS - 1e-6, f"the trainer stopped at epoch {epochs:.2f}: train for at least {MIN_EPOCHS}.")
    n_train = len(trainer.train_dataset) if trainer.train_dataset is not None else 0
    expect(n_train >= MIN_TRAIN, f"the trainer trained on {n_train} examples: use the train split (>= {MIN_TRAIN}).")
    evals = [h for h in trainer.state.log_history if "eval_loss" in h]
    epochs_evaluated = {round(h.get("epoch", 0)) for h in evals}
    missing = [e for e in range(1, MIN_EPOCHS + 1) if e not in epochs_evaluated]
    expect(not missing, f"no validation loss was logged after epoch(s) {missing}: set eval_strategy=\"epoch\" and "
                        "pass the validation split as eval_dataset.")
    expect(evals[-1]["eval_loss"] < evals[0]["eval_loss"],
           f"the validation loss did not fall ({evals[0]['eval_loss']:.3f} -> {evals[-1]['eval_loss']:.3f}).")


@part.check(LEAK_CHECK, task=T4,
            hint="Train on load_splits((\"train\", \"validation\"))[\"train\"] only. The grader scores the adapter "
                 "on the test split, so a model that has seen those tickets looks better than it is.")
def _leak(ns):
    trainer = _trainer(ns)
    leaked = _leaked_tickets(trainer.train_dataset)
    expect(not leaked, f"the trainer's train_dataset holds {leaked} of the 100 hidden test tickets: the test score "
                       "would measure memory, not learning. Build the training data from the train split only.")


@part.check(COLLATOR_CHECK, task=T4,
            hint="SmolLM2's pad token is <|im_end|>. DataCollatorForLanguageModeling sets every pad-token id's label "
                 "to -100, the real end-of-turn too. DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100) pads "
                 "the labels with -100 and keeps the existing ones.")
def _collator(ns):
    tokenize_example = _reference().tokenize_example
    trainer = _trainer(ns)
    tokenizer = _tokenizer()
    rows = _raw_splits()["train"]
    examples = sorted((tokenize_example(rows[i], tokenizer) for i in range(6)), key=lambda e: len(e["input_ids"]))
    pair = [examples[0], examples[-1]]
    expect(len(pair[0]["input_ids"]) < len(pair[1]["input_ids"]), "internal: the grader needs two lengths.")
    try:
        batch = trainer.data_collator([dict(e) for e in pair])
    except Exception as err:  # DataCollatorForLanguageModeling cannot pad a labels column: it makes its own
        try:
            batch = trainer.data_collator([{k: v for k, v in e.items() if k != "labels"} for e in pair])
        except Exception:
            expect(False, f"the trainer's collator cannot batch two examples: {type(err).__name__}: "
                          f"{str(err).splitlines()[0][:200]}")
    expect("labels" in batch, "the collator's batch has no labels: the Trainer would compute no loss.")
    labels = batch["labels"]
    ids = batch["input_ids"]
    expect(labels.shape == ids.shape, f"the collator's labels have shape {tuple(labels.shape)}, input_ids "
                                      f"{tuple(ids.shape)}.")
    for row in range(2):
        mask = batch["attention_mask"][row].bool()
        real_labels = labels[row][mask].tolist()
        expect(real_labels == pair[row]["labels"],
               "the collator changed the labels of real tokens"
               + (": the answer's <|im_end|> label became -100, so the model never learns to stop."
                  if real_labels[-1] == -100 and pair[row]["labels"][-1] == tokenizer.eos_token_id
                  else ": the prompt labels are no longer -100." if real_labels[0] != -100 else "."))
        expect(all(label == -100 for label in labels[row][~mask].tolist()),
               "the collator gives padding positions a label: pad labels must be -100.")


ARGS_EVAL_CHECK = "TrainingArguments validate every epoch, log the training loss and report to no online service"
ARGS_PRECISION_CHECK = "TrainingArguments take the precision from the device (bf16, fp16 or fp32)"
ARGS_OPTIM_CHECK = "TrainingArguments use a LoRA learning rate, a small batch and an output folder under outputs/"
MIN_LORA_LR, MAX_LORA_LR = 5e-4, 2e-2
"""LoRA learning rates that learn the task in 75 steps (4e-3 measured best; 2e-3 at batch 4 reached 53 %)."""
MAX_LOGGING_STEPS = 25
"""At most this many steps between training-loss points (75 steps: at least 3 points)."""


def _strategy(value) -> str:
    return str(getattr(value, "value", value))


def _training_args(ns, name: str = "trainer"):
    """The ``TrainingArguments`` the learner's ``trainer`` (or another trainer variable) runs with."""
    from transformers import Trainer, TrainingArguments

    trainer = require(ns, name, Trainer)
    expect(isinstance(trainer.args, TrainingArguments),
           f"{name}.args is a {type(trainer.args).__name__}: build TrainingArguments(...) and pass it as args=.")
    return trainer.args


@part.check(ARGS_EVAL_CHECK, task=T4,
            hint="TrainingArguments(eval_strategy=\"epoch\", logging_steps=5, report_to=\"none\", ...). In 4.x the "
                 "first was called evaluation_strategy.")
def _args_eval(ns):
    args = _training_args(ns)
    expect(_strategy(args.eval_strategy) == "epoch",
           f"eval_strategy is {_strategy(args.eval_strategy)!r}: set eval_strategy=\"epoch\" for a validation loss "
           "after every epoch.")
    logging = _strategy(args.logging_strategy)
    expect(logging == "steps" and 0 < args.logging_steps <= MAX_LOGGING_STEPS,
           f"logging is {logging!r} every {args.logging_steps} steps: log the training loss every few steps "
           f"(logging_steps at most {MAX_LOGGING_STEPS}) so the loss curve has points.")
    reports = [r for r in (args.report_to or []) if r != "none"]
    expect(not reports, f"report_to is {args.report_to!r}: the workshop is offline and sends nothing to "
                        "online trackers. Set report_to=\"none\".")


@part.check(ARGS_PRECISION_CHECK, task=T4,
            hint="bf16=info.mixed_precision == \"bf16\", fp16=info.mixed_precision == \"fp16\": helpers.setup() "
                 "decided the precision from the hardware. On a CPU also use_cpu=True.")
def _args_precision(ns):
    from helpers.device import mixed_precision

    args = _training_args(ns)
    expected = mixed_precision(args.device)
    chosen = "bf16" if args.bf16 else "fp16" if args.fp16 else "no"
    expect(chosen == expected and not (args.bf16 and args.fp16),
           f"the arguments ask for bf16={args.bf16}, fp16={args.fp16} on {args.device.type}, where the precision to "
           f"use is {expected!r} ("
           + {"bf16": "native bf16 matmuls", "fp16": "a GPU without bf16",
              "no": "fp32: mixed precision is emulated and slow here"}[expected] + ").")


@part.check(ARGS_OPTIM_CHECK, task=T4,
            hint="learning_rate=4e-3 (LoRA's few weights need big steps; the default 5e-5 learns almost nothing in 75 "
                 "steps), per_device_train_batch_size=4, output_dir=str(OUTPUT_DIR / \"run\").")
def _args_optim(ns):
    from helpers.paths import REPO_ROOT

    args = _training_args(ns)
    expect(MIN_LORA_LR <= args.learning_rate <= MAX_LORA_LR,
           f"learning_rate is {args.learning_rate:g}: LoRA on 75 steps needs about 1e-3 to 1e-2 "
           f"(between {MIN_LORA_LR:g} and {MAX_LORA_LR:g}).")
    expect(1 <= args.per_device_train_batch_size <= 16,
           f"per_device_train_batch_size is {args.per_device_train_batch_size}: keep it small (4) on a CPU.")
    folder = Path(args.output_dir).resolve()
    expect(folder.is_relative_to(REPO_ROOT / "outputs"),
           f"output_dir is {args.output_dir!r}: put the Trainer's folder under outputs/ (OUTPUT_DIR / \"run\"), "
           "which git ignores, not next to the notebooks.")


# --------------------------------------------------------------------------- Task 5

ADAPTER_CHECK = "ADAPTER_DIR holds the trained LoRA adapter, not a full model"
RELOAD_CHECK = "reloaded is the adapter on a fresh base model, and it answers new messages in JSON"
GAIN_CHECK = "the saved adapter beats the base model on the hidden test split (recomputed by the grader)"


def _adapter_files(ns) -> Path:
    """The adapter folder, after checking from its files alone that it holds a LoRA adapter, not a full model."""
    folder = _adapter_dir(ns)
    expect(folder.is_dir(), f"{folder.name}/ does not exist: save the adapter with model.save_pretrained(ADAPTER_DIR).")
    names = {p.name for p in folder.iterdir()}
    full = sorted(n for n in names if n.startswith(("model", "pytorch_model")) and n.endswith((".safetensors", ".bin")))
    expect(not full, f"{folder.name}/ holds full model weights ({', '.join(full)}): save the PeftModel "
                     "(model.save_pretrained), which writes only the adapter, a few MB.")
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        expect(name in names,
               f"{folder.name}/ has no {name}: save the PeftModel with model.save_pretrained(ADAPTER_DIR).")
    config = json.loads((folder / "adapter_config.json").read_text())
    expect(config.get("peft_type") == "LORA", f"the adapter's peft_type is {config.get('peft_type')!r}, not LORA.")
    return folder


def _trained_adapter(ns) -> Path:
    """The adapter folder, after checking it is an adapter and holds the trained model's weights."""
    from peft import PeftModel, get_peft_model_state_dict
    from safetensors.torch import load_file

    folder = _adapter_files(ns)
    model = require(ns, "model", PeftModel)
    saved = load_file(str(folder / "adapter_model.safetensors"))
    current = get_peft_model_state_dict(model)
    expect(len(saved) == len(current) and all(
        k in saved and torch.equal(saved[k].float(), v.detach().float().cpu()) for k, v in current.items()),
        f"the adapter in {folder.name}/ is not the one `model` holds now: save it after training.")
    return folder


@part.check(ADAPTER_CHECK, task=T5,
            hint="model.save_pretrained(ADAPTER_DIR) on the PeftModel writes adapter_config.json and "
                 "adapter_model.safetensors. merge_and_unload() or the base model's save_pretrained write "
                 "135 M weights.")
def _adapter(ns):
    _trained_adapter(ns)


@part.check(RELOAD_CHECK, task=T5,
            hint="reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=...), "
                 "ADAPTER_DIR): a new base model, the adapter loaded from disk.")
def _reload(ns):
    from peft import PeftModel

    from helpers.challenge.task import is_allowed, parse_prediction
    from helpers.challenge.training import generate_answers

    reloaded = require(ns, "reloaded")
    expect(isinstance(reloaded, PeftModel), f"reloaded is a {type(reloaded).__name__}: load the adapter with "
                                            "PeftModel.from_pretrained(base_model, ADAPTER_DIR).")
    model = ns.get("model")
    expect(reloaded is not model,
           "reloaded is the trained model itself: load a fresh base model and the saved adapter.")
    if isinstance(model, PeftModel):
        expect(reloaded.get_base_model() is not model.get_base_model(),
               "reloaded shares its base model with the trained model: load a fresh base model.")
    answers = generate_answers(reloaded, _tokenizer(), list(NEW_MESSAGES), max_new_tokens=MAX_NEW_TOKENS)
    for message, answer in zip(NEW_MESSAGES, answers, strict=True):
        record = parse_prediction(answer)
        expect(record is not None, f"reloaded answers {message!r} with {answer!r}, which is not a JSON record.")
        wrong = [f for f in ("intent", "product", "urgent") if not is_allowed(f, record.get(f))]
        expect(not wrong, f"reloaded answers {message!r} with {answer!r}: {wrong} are not allowed values.")


@part.check(GAIN_CHECK, task=T5,
            hint="Train longer or with a higher learning rate, mask the prompt, keep the <|im_end|> label; then save "
                 "the trained adapter again. The grader loads it from ADAPTER_DIR and scores the 100 test tickets.",
            reads=("ADAPTER_DIR", "RESULTS_PATH"), requires=(ADAPTER_CHECK,),
            grading_only="it answers the 100 hidden test and 60 validation tickets with the saved adapter (1-2 "
                         "minutes on a laptop CPU); your validation score above is the same measurement")
def _gain(ns):
    try:
        folder = _adapter_files(ns)
    except AssertionError:
        expect(False, f"there is no trained adapter to evaluate {prerequisite(ADAPTER_CHECK)}.")
    signature = _signature(folder)  # hashes the adapter's files: once per check
    scores = _adapter_scores(signature)
    base = _base_test_score()
    claim = ""
    results_path = ns.get("RESULTS_PATH")
    try:
        claimed = read_results(results_path).metrics["lora"].exact_match
        if isinstance(claimed, int | float) and claimed - scores["exact_match"] > 0.2:
            claim = f" (results.json claims {_pct(claimed)}, which the saved adapter does not deliver)"
    except (TypeError, OSError, ValueError, KeyError, AttributeError):
        pass
    expect(scores["exact_match"] >= base + MIN_GAIN,
           f"on the 100 test tickets the saved adapter scores {_pct(scores['exact_match'])} exact match, the base "
           f"model {_pct(base)}: the gain must be at least {MIN_GAIN:.0%} points{claim}.")
    validation = _adapter_scores(signature, "validation")["exact_match"]
    expect(scores["exact_match"] - validation <= MAX_TEST_LEAD,
           f"the saved adapter scores {_pct(scores['exact_match'])} on the hidden test tickets but "
           f"{_pct(validation)} on the validation tickets: a lead that large means it has seen test tickets "
           f"{prerequisite(LEAK_CHECK)}.")


# --------------------------------------------------------------------------- Task 6

MEMORY_CHECK = "memory holds LoRA and full fine-tuning peaks measured in separate processes, LoRA's below full's"
RESULTS_CHECK = "RESULTS_PATH records this run: metrics before and after, epochs, parameters, memory, times"


def _expect_recorded(memory: dict, mode: str) -> None:
    """Fail unless ``memory[mode]`` is what the probe's own process recorded (not numbers a cell typed)."""
    from helpers.challenge.memory_probe import read_record

    measured = memory[mode]
    record = read_record(measured.get("pid"), mode)
    expect(record is not None and all(measured.get(key) == value for key, value in record.items()),
           f"memory['{mode}'] is not a measurement of the memory probe (no record of process {measured.get('pid')!r} "
           f"measuring {mode}, or different numbers): measure it with compare_training_memory, never type it.")


def _memory(ns) -> dict:
    memory = require(ns, "memory", dict)
    for mode in ("lora", "full"):
        expect(mode in memory and isinstance(memory[mode], dict),
               f"memory has the keys {sorted(memory)}: it needs 'lora' and 'full' measurements.")
        expect(isinstance(memory[mode].get("peak_bytes"), int) and memory[mode]["peak_bytes"] > 0,
               f"memory['{mode}'] has no peak_bytes: measure it with compare_training_memory.")
        _expect_recorded(memory, mode)
    return memory


@part.check(MEMORY_CHECK, task=T6,
            hint="memory = compare_training_memory((\"lora\", \"full\"), batch=probe_batch, "
                 "lora_config=make_lora_config()): the same batch for both, each in its own fresh process.")
def _memory_check(ns):
    memory = _memory(ns)
    lora, full = memory["lora"], memory["full"]
    same_batch = all(lora.get(key) == full.get(key) for key in ("batch_size", "sequence_length"))
    expect(same_batch,
           f"LoRA was measured on a batch of {lora.get('batch_size')} x {lora.get('sequence_length')} tokens, full "
           f"fine-tuning on {full.get('batch_size')} x {full.get('sequence_length')}: compare the same batch.")
    pids = {lora.get("pid"), full.get("pid")}
    expect(None not in pids and os.getpid() not in pids and len(pids) == 2,
           "the two measurements were not made in two separate processes (compare_training_memory starts one "
           "per mode): in one process the first mode's memory hides in the second's peak.")
    ratio = lora["peak_bytes"] / full["peak_bytes"]
    expect(ratio < MAX_MEMORY_RATIO,
           f"LoRA's peak is {ratio:.2f} x full fine-tuning's: expected below {MAX_MEMORY_RATIO}.")


@part.check(RESULTS_CHECK, task=T6,
            hint="update_results({...}, RESULTS_PATH) with base_model, epochs, trainable_params, total_params, "
                 "metrics (base and lora: the dicts evaluate_model returned), peak_memory_bytes, train_seconds, "
                 "checkpoint_bytes. Write the values the notebook computed, never typed numbers.")
def _results(ns):
    path = require(ns, "RESULTS_PATH")
    expect(isinstance(path, str | os.PathLike) and Path(path).is_file(), f"there is no results file at {path}.")
    try:
        results = read_results(path)
    except ResultsError as err:
        expect(False, str(err))
    data = results.as_json()
    for key in ("base_model", "epochs", "trainable_params", "total_params", "metrics", "peak_memory_bytes",
                "train_seconds", "checkpoint_bytes"):
        expect(key in data, f"{Path(path).name} has no '{key}'.")
    expect(data["base_model"] == CHAT_MODEL_ID, f"base_model is {data['base_model']!r}, expected {CHAT_MODEL_ID!r}.")
    for name, var in (("base", "base_scores"), ("lora", "tuned_scores")):
        expect(data["metrics"].get(name) == ns.get(var, object()),
               f"metrics['{name}'] in {Path(path).name} is not `{var}` as the notebook computed it.")
    trainer = ns.get("trainer")
    if trainer is not None and getattr(trainer, "state", None) is not None:
        ran = _epochs_trained(trainer)
        expect(data["epochs"] == round(ran),
               f"epochs is {data['epochs']!r}, but the trainer ran {ran} epochs"
               + (f" {prerequisite(TRAINING_CHECK)}." if ran < MIN_EPOCHS - 1e-6 else "."))
    for mode in ("lora", "full"):
        expect(isinstance(data["peak_memory_bytes"].get(mode), int),
               f"peak_memory_bytes['{mode}'] is {data['peak_memory_bytes'].get(mode)!r}: write the measured bytes.")
    model = ns.get("model")
    if model is not None:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        expect(data["trainable_params"].get("lora") == trainable,
               f"trainable_params['lora'] is {data['trainable_params'].get('lora')!r}, the model has {trainable:,}.")


# --------------------------------------------------------------------------- Bonus

QLORA_CONFIG_CHECK = ("bnb_config is a 4-bit NF4 BitsAndBytesConfig with double quantization and the device's "
                      "compute dtype")
QLORA_CHECK = "QLoRA: qlora_model has a 4-bit base, its trained adapter works, and it needs less memory than LoRA"
FULL_TRAINER_CHECK = "full_trainer fine-tunes every weight of a plain model at a full fine-tuning learning rate"
FULL_CHECK = "comparison sets LoRA against full fine-tuning: quality, time, peak memory and checkpoint size"
SCRIPT_CHECK = "INFERENCE_SCRIPT answers a message from the command line with a JSON record"
HUB_CHECK = "MODEL_REPO_DIR is a model repository: the adapter and a card with base model, licence, data and results"
HUB_DATA_CHECK = "DATA_REPO_DIR is a data set repository that loads with load_dataset: train and validation only"
CARD_TOLERANCE = 0.05
"""The card's exact match may differ from the grader's recomputation by 3 of 60 tickets (merged weights round
differently from the adapter on top of the base, so a borderline greedy answer may flip)."""
MAX_FULL_LR = 5e-4
"""Full fine-tuning moves every weight: rates above this wreck a 135 M model in a few steps."""


@part.check(QLORA_CONFIG_CHECK, task=B1,
            hint="BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"nf4\", bnb_4bit_use_double_quant=True, "
                 "bnb_4bit_compute_dtype=info.compute_dtype).")
def _qlora_config(ns):
    from transformers import BitsAndBytesConfig


    expect_nf4_config(require(ns, "bnb_config", BitsAndBytesConfig), "bnb_config")


def _grader_4bit_base():
    """SmolLM2 in 4-bit NF4 with double quantization, built by the grader's reference (not the learner's config)."""
    return _reference().load_base_model(CHAT_MODEL_ID, mode="qlora")


@part.check(QLORA_CHECK, task=B1,
            hint="qlora_model = get_peft_model(prepare_model_for_kbit_training(<model loaded with "
                 "quantization_config=bnb_config>), make_lora_config()); qlora_trainer = Trainer(...) with your "
                 "Task 4 args; save to QLORA_ADAPTER_DIR; the given cell then measures memory[\"qlora\"].")
def _qlora(ns):
    from bitsandbytes.nn import Linear4bit
    from peft import PeftModel
    from transformers import Trainer

    model = require(ns, "qlora_model", PeftModel)
    four_bit = sum(isinstance(m, Linear4bit) for m in model.get_base_model().modules())
    expect(four_bit > 0, "qlora_model has no 4-bit layer: load the base with quantization_config=bnb_config.")
    trainer = require(ns, "qlora_trainer", Trainer)
    expect(trainer.model is model, "qlora_trainer does not train qlora_model.")
    expect(_epochs_trained(trainer) >= MIN_EPOCHS - 1e-6,
           f"qlora_trainer stopped at epoch {_epochs_trained(trainer):.2f}: train as long as the LoRA run.")
    folder = Path(require(ns, "QLORA_ADAPTER_DIR"))
    expect((folder / "adapter_model.safetensors").is_file(), f"{folder.name}/ holds no adapter: "
                                                             "qlora_model.save_pretrained(QLORA_ADAPTER_DIR).")
    config = json.loads((folder / "adapter_config.json").read_text())
    expect(config.get("peft_type") == "LORA", "the QLoRA adapter is not a LoRA adapter.")
    memory = require(ns, "memory", dict)
    measured = memory.get("qlora") or {}
    lora = memory.get("lora") or {}
    expect(isinstance(measured.get("peak_bytes"), int) and isinstance(lora.get("peak_bytes"), int),
           "memory needs 'qlora' and 'lora' measurements.")
    _expect_recorded(memory, "qlora")
    expect(measured["peak_bytes"] < lora["peak_bytes"] and measured.get("batch_size") == lora.get("batch_size"),
           f"QLoRA's peak ({measured['peak_bytes']:,} B, batch {measured.get('batch_size')}) should be below "
           f"LoRA's ({lora['peak_bytes']:,} B, batch {lora.get('batch_size')}) on the same batch.")
    scores = _reference().evaluate_answers(PeftModel.from_pretrained(_grader_4bit_base(), str(folder)), _tokenizer(),
                                           _raw_splits()["test"].select(range(20)),
                                           max_new_tokens=MAX_NEW_TOKENS)
    expect(scores["exact_match"] >= _base_test_score() + MIN_GAIN / 2,
           f"the QLoRA adapter on the grader's 4-bit base scores {_pct(scores['exact_match'])} on 20 test tickets: "
           f"expected at least {_pct(_base_test_score() + MIN_GAIN / 2)}.")


@part.check(FULL_TRAINER_CHECK, task=B2,
            hint="full_model = AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float32) (no adapters); "
                 "full_args = dataclasses.replace(args, learning_rate=1e-4, num_train_epochs=1, output_dir=...).")
def _full_trainer(ns):
    from peft import PeftModel
    from transformers import PreTrainedModel, Trainer

    trainer = require(ns, "full_trainer", Trainer)
    expect(isinstance(trainer.model, PreTrainedModel) and not isinstance(trainer.model, PeftModel),
           f"full_trainer trains a {type(trainer.model).__name__}: full fine-tuning trains the plain model.")
    frozen = sum(p.numel() for p in trainer.model.parameters() if not p.requires_grad)
    expect(frozen == 0, f"{frozen:,} weights of full_trainer's model are frozen: full fine-tuning trains them all.")
    expect(trainer.state.global_step > 0, "full_trainer has not trained: run full_trainer.train().")
    expect(trainer.args.learning_rate <= MAX_FULL_LR,
           f"full_trainer's learning_rate is {trainer.args.learning_rate:g}: LoRA's rate moves all 135 M weights far "
           f"too much; full fine-tuning uses about 1e-4 (at most {MAX_FULL_LR:g}).")


@part.check(FULL_CHECK, task=B2,
            hint="Record the full run (the given cell writes results.json), then build the table from "
                 "load_challenge_results(RESULTS_PATH).measured_row(strategy) for \"full\" and \"lora\".")
def _full(ns):
    import pandas as pd

    comparison = require(ns, "comparison", pd.DataFrame)
    for strategy in ("full", "lora"):
        expect(strategy in comparison.columns, f"comparison has the columns {list(comparison.columns)}: it needs "
                                               f"'{strategy}'.")
    rows = ("exact match after", "training time", "peak training memory", "checkpoint size")
    for row in rows:
        expect(row in comparison.index, f"comparison has no row '{row}'.")
        for strategy in ("full", "lora"):
            value = str(comparison.loc[row, strategy])
            expect(value != "not measured", f"comparison['{strategy}']['{row}'] is not measured: run the "
                                            f"{strategy} training and write its results.")
    results = read_results(require(ns, "RESULTS_PATH"))
    sizes = results.checkpoint_bytes if results else {}
    measured = isinstance(sizes.get("full"), int) and isinstance(sizes.get("lora"), int)
    expect(measured and sizes["full"] > 20 * sizes["lora"],
           f"checkpoint_bytes {sizes}: a full checkpoint holds all 135 M weights, an adapter a few MB.")


@part.check(SCRIPT_CHECK, task=B3, grading_only="it starts your script in a new Python process, which loads the "
                                                 "model (10-15 s on a laptop CPU); the cell above shows its answer",
            hint="In answer_tickets.py: load_model returns PeftModel.from_pretrained(base, adapter_dir) and the "
                 "tokenizer (left padding); answer runs one greedy generate over the chat-template prompts and "
                 "decodes the new tokens only.",
            reads=("INFERENCE_SCRIPT", "ADAPTER_DIR"))
def _script(ns):
    from helpers.challenge.task import is_allowed, parse_prediction

    script = require(ns, "INFERENCE_SCRIPT")
    expect(isinstance(script, str | os.PathLike) and Path(script).is_file(),
           f"INFERENCE_SCRIPT={script!r} is not a file.")
    adapter = _adapter_dir(ns)
    expect((adapter / "adapter_config.json").is_file(),
           f"there is no adapter to answer with {prerequisite(ADAPTER_CHECK)}.")
    message = NEW_MESSAGES[0]
    done = subprocess.run([sys.executable, str(script), "--adapter", str(adapter), message],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0 and "NotImplementedError" in done.stderr:
        expect(False, f"{Path(script).name} still raises NotImplementedError: write load_model and answer.")
    expect(done.returncode == 0, f"the script exited with {done.returncode}: {done.stderr.strip()[-300:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    expect(lines, "the script printed nothing.")
    record = parse_prediction(lines[-1])
    valid = record is not None and all(is_allowed(f, record.get(f)) for f in ("intent", "product", "urgent"))
    if not valid and (adapter / "adapter_model.safetensors").is_file():
        scores = _adapter_scores(_signature(adapter))
        expect(scores["exact_match"] >= _base_test_score() + MIN_GAIN,
               f"the script printed {lines[-1]!r}; the adapter it loads has not learned the task "
               f"{prerequisite(GAIN_CHECK)}.")
    expect(valid, f"the script printed {lines[-1]!r}, not a JSON record with allowed values.")


@part.check(HUB_CHECK, task=B4,
            hint="card_data = ModelCardData(base_model=CHAT_MODEL_ID, library_name=\"peft\", license=LICENSE, "
                 "datasets=[HUB_DATASET_ID], eval_results=[EvalResult(..., "
                 "metric_value=tuned_scores[\"exact_match\"])]); "
                 "card = ModelCard.from_template(card_data, direct_use=..., training_data=...); "
                 "reloaded.save_pretrained(MODEL_REPO_DIR); card.save(MODEL_REPO_DIR / \"README.md\").",
            reads=("MODEL_REPO_DIR", "card", "HUB_DATASET_ID", "uploaded"),
            grading_only="it loads the staged adapter and answers the 60 validation tickets to check the card's number "
                         "(about 20 s on a laptop CPU)")
def _hub(ns):
    from huggingface_hub import ModelCard, constants

    folder = Path(require(ns, "MODEL_REPO_DIR"))
    written = require(ns, "card", ModelCard)
    expect((folder / "README.md").is_file(), f"{folder.name}/ has no README.md (the model card): card.save(...).")
    expect((folder / "README.md").read_text(encoding="utf-8").strip() == str(written).strip(),
           f"{folder.name}/README.md is not this notebook's card: save it with card.save(MODEL_REPO_DIR / "
           "\"README.md\") (an older staged folder does not count).")
    card = ModelCard.load(folder / "README.md")
    data = card.data.to_dict()
    expect(data.get("base_model") == CHAT_MODEL_ID, f"the card's base_model is {data.get('base_model')!r}.")
    expect(data.get("license"), "the card has no license: nobody may legally reuse the adapter without one.")
    expect(data.get("library_name") == "peft", "the card's library_name should be 'peft' (an adapter).")
    dataset_id = ns.get("HUB_DATASET_ID")
    expect(isinstance(data.get("datasets"), list) and dataset_id in data["datasets"],
           f"the card's datasets are {data.get('datasets')!r}: name the data set repository ({dataset_id!r}).")
    results = card.data.eval_results or []
    exact = [r.metric_value for r in results if r.metric_type == "exact_match"]
    expect(exact, "the card has no exact_match evaluation result (eval_results=[EvalResult(...)]).")
    text = card.text.lower()
    expect("direct use" in text or "intended use" in text, "the card does not say what the model is for.")
    expect("training data" in text, "the card does not describe the training data.")
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        expect((folder / name).is_file(), f"{folder.name}/ has no {name}: save the adapter next to the card.")
    try:  # loading the staged adapter is part of scoring it: one load proves both
        recomputed = _adapter_scores(_signature(folder), "validation")["exact_match"]
    except Exception as err:  # a broken adapter folder
        expect(False, f"the staged adapter does not load: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
    expect(isinstance(exact[0], int | float) and abs(float(exact[0]) - recomputed) <= CARD_TOLERANCE,
           f"the card reports exact match {exact[0]!r}; the staged adapter scores {recomputed:.2f} on the "
           f"{_raw_splits()['validation'].num_rows} validation tickets, recomputed by the grader: write the measured "
           "number (tuned_scores[\"exact_match\"]).")
    uploaded = require(ns, "uploaded")
    expect(isinstance(uploaded, bool), f"uploaded should be True or False, got {type(uploaded).__name__}.")
    if constants.HF_HUB_OFFLINE:
        expect(not uploaded, "uploaded is True, but the Hub is offline: nothing can have been uploaded.")


@part.check(HUB_DATA_CHECK, task=B4,
            hint="for split, rows in load_splits((\"train\", \"validation\")).items(): "
                 "rows.to_parquet(DATA_REPO_DIR / DATA_FILE_PATTERN.format(split=split)); then a DatasetCard saved "
                 "as DATA_REPO_DIR / \"README.md\". The test split stays private.",
            reads=("DATA_REPO_DIR", "dataset_card"))
def _hub_data(ns):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    from helpers.env import progress_bars_off

    folder = Path(require(ns, "DATA_REPO_DIR"))
    dataset_card = require(ns, "dataset_card", DatasetCard)
    expect(folder.is_dir(), f"{folder.name}/ does not exist: stage the data set there.")
    expect((folder / "README.md").is_file(), f"{folder.name}/ has no README.md (the data set card).")
    expect((folder / "README.md").read_text(encoding="utf-8").strip() == str(dataset_card).strip(),
           f"{folder.name}/README.md is not this notebook's dataset_card: save it with "
           "dataset_card.save(DATA_REPO_DIR / \"README.md\") (an older staged folder does not count).")
    try:
        with progress_bars_off():
            staged = load_dataset(str(folder))
    except Exception as err:
        expect(False, f"load_dataset({folder.name!r}) fails: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
    expect("test" not in staged, "the test split is staged: it is the grader's hidden split, keep it private.")
    raw = _raw_splits()
    for split in ("train", "validation"):
        expect(split in staged, f"the staged data set has the splits {sorted(staged)}: it needs '{split}'.")
        expect(staged[split].num_rows == raw[split].num_rows,
               f"the staged {split} split has {staged[split].num_rows} tickets, the data set {raw[split].num_rows}.")
        expect(set(raw[split].column_names) <= set(staged[split].column_names),
               f"the staged {split} split has the columns {staged[split].column_names}: share the raw tickets "
               f"({raw[split].column_names}), not the tokenized ids.")
