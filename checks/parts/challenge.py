"""Autograder for 04 · LoRA challenge: fine-tune SmolLM2 to extract a JSON record from tickets.

The learner writes three things: a ``LoraConfig`` (Task 1), ``TrainingArguments`` and a ``Trainer`` that trains
(Task 2), and the saved adapter reloaded on a fresh base model (Task 3); the data set, the collator, the evaluation,
the memory comparison and ``results.json`` are given. The checks never trust what the notebook prints or writes
about itself: they apply the learner's ``LoraConfig`` to a model of their own; they recount the epochs from the
trainer's own steps; they load the saved adapter on a fresh base model of their own and **recompute exact match on
the test split**, which the notebook never sees. Paths are read from the notebook (``ADAPTER_DIR`` ...), so a
learner may save elsewhere.

This module holds the check definitions; their tooling lives beside it: :mod:`checks.parts.challenge_scoring` (the
grader's own models, the cached base score, the adapter's scores on the hidden test split) and
:mod:`checks.parts.challenge_script` (the runs of the inference script and the answers they are compared with).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch

from checks.grader import Part, expect, prerequisite, require
from checks.grader.expectations import expect_nf4_config
from checks.parts.challenge_scoring import (
    adapter_scores,
    adapter_signature,
    base_test_score,
    grader_4bit_base,
    grader_tokenizer,
    meta_model,
    raw_splits,
    score_model,
)
from checks.parts.challenge_script import (
    AdapterError,
    answer_key,
    differences,
    grader_answers,
    is_valid_record,
    run_script,
    save_control_adapter,
)
from checks.reference.recipe import default_lora_config
from helpers.challenge.results import read_results
from helpers.challenge.task import MAX_NEW_TOKENS

part = Part("challenge")

T1 = "Task 1: make_lora_config"
T2 = "Task 2: train with Trainer"
T3 = "Task 3: save and reload"
B1 = "Bonus A: QLoRA"
B2 = "Bonus B: LoRA vs full fine-tuning"
B3 = "Bonus C: inference script"

MIN_TRAIN = 100
"""The challenge trains on at least 100 tickets (the given ``dataset["train"]``)."""
MIN_EPOCHS = 3
MAX_TRAINABLE_SHARE = 0.05
"""LoRA must train well under 5 % of the parameters."""
MIN_GAIN = 0.25
"""Exact match on the test split must beat the base model's by at least 25 points (stated in Task 3)."""
MAX_TEST_LEAD = 0.25
"""How far the test score may exceed the validation score. Honest adapters score within sampling noise of each
other on the 100 test and 60 validation tickets (standard deviation of the difference about 0.075 at 70 %), so a
lead above 0.25 (3.3 standard deviations) means the adapter has seen test tickets."""

NEW_MESSAGES = (
    "my phone from order ZT-31415 stopped charging after two days, I need a replacement today",
    "Could you change the delivery address for the tablet in order MB-27182? I moved last week.",
    "do you sell a monitor with usb-c?",
)
"""Messages the learner never saw. Each names one of the task's products, as every ticket does: a message without
one asks the model for a product it cannot know (an AVX-512 BF16 run answered "delivery_status")."""
MAX_OFF_VOCABULARY = 1
"""How many of :data:`NEW_MESSAGES` the reloaded adapter may answer with a value outside the allowed ones: greedy
answers differ between CPUs and with the adapted blocks, and an honest adapter trained on a busy 2-core machine (the
6-block setting) answered "do you sell a monitor with usb-c?" with the intent "monitor". Every answer must be JSON."""


# --------------------------------------------------------------------------- reading the notebook


def _adapter_dir(ns) -> Path:
    value = require(ns, "ADAPTER_DIR")
    expect(isinstance(value, str | os.PathLike), f"ADAPTER_DIR should be a path, got {type(value).__name__}.")
    return Path(value)


def _pct(value: float) -> str:
    return f"{value:.0%}"


# --------------------------------------------------------------------------- Task 1

CONFIG_CHECK = "make_lora_config returns a LoraConfig for a causal LM"
TARGETS_CHECK = "the LoRA target modules exist in SmolLM2"
SHARE_CHECK = "LoRA trains well under 5 % of the parameters"


def _config(ns):
    from peft import LoraConfig

    make_lora_config = require(ns, "make_lora_config", callable)
    config = make_lora_config()
    expect(isinstance(config, LoraConfig), f"make_lora_config() returned {type(config).__name__}, not a LoraConfig.")
    return config


@part.check(CONFIG_CHECK, task=T1,
            hint="LoraConfig(task_type=\"CAUSAL_LM\", r=16, lora_alpha=32, target_modules=[...], "
                 "layers_to_transform=ADAPTED_LAYERS).",
            more_hint="task_type tells PEFT which wrapper to build: \"CAUSAL_LM\" gives PeftModelForCausalLM, which "
                      "generates and shifts the labels like the model it wraps.")
def _config_type(ns):
    config = _config(ns)
    problems = []
    task_type = getattr(config.task_type, "value", config.task_type)
    if task_type != "CAUSAL_LM":
        problems.append(f"task_type is {task_type!r}: SmolLM2 is a causal LM, so task_type must be \"CAUSAL_LM\" "
                        "(PEFT then wraps it as PeftModelForCausalLM, which generates and shifts the labels)")
    if not (isinstance(config.r, int) and config.r >= 1):
        problems.append(f"r is {config.r!r}: the rank is a positive int")
    if not (isinstance(config.lora_alpha, int | float) and config.lora_alpha > 0):
        problems.append(f"lora_alpha is {config.lora_alpha!r}: a positive number (commonly r or 2 r)")
    if not 0 <= config.lora_dropout < 0.5:
        problems.append(f"lora_dropout is {config.lora_dropout!r}: between 0 and 0.5 (leave it at 0.0 here)")
    expect(not problems, "; ".join(problems) + ".")


def _apply(config):
    import copy

    from peft import get_peft_model

    return get_peft_model(copy.deepcopy(meta_model()), copy.deepcopy(config))


@part.check(TARGETS_CHECK, task=T1,
            hint="print(model) shows SmolLM2's layer names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                 "down_proj. Names from other architectures (query, value, c_attn) match nothing here.")
def _targets(ns):
    config = _config(ns)
    try:
        _apply(config)
    except ValueError as err:
        expect(False, f"PEFT cannot apply the config to SmolLM2: {str(err).splitlines()[0]}")


@part.check(SHARE_CHECK, task=T1,
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


@part.catch_up(T1)
def _working_lora_config():
    """``make_lora_config`` for a learner stuck on Task 1: the reference configuration (the top 8 blocks adapted)."""
    return default_lora_config


# --------------------------------------------------------------------------- Task 2

TRAINING_CHECK = "trainer trained LoRA for at least 3 epochs with a validation loss after every epoch"
LEAK_CHECK = "the trainer trained on no ticket of the hidden test split"
ARGS_CHECK = ("args: a LoRA learning rate, a validation loss every epoch, the given TRAIN_SETTINGS, a folder under "
              "outputs/")
MIN_LORA_LR, MAX_LORA_LR = 5e-4, 2e-2
"""LoRA learning rates that learn the task in 75 steps (4e-3 measured best; 2e-3 at batch 4 reached 53 %)."""
MAX_LOGGING_STEPS = 25
"""At most this many steps between training-loss points (75 steps: at least 3 points)."""


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
        tokenizer = grader_tokenizer()
        texts += [tokenizer.decode(list(ids)) for ids in dataset["input_ids"]]
    blob = "\n".join(texts)
    return sum(1 for row in raw_splits()["test"] if row["message"] in blob)


@part.check(TRAINING_CHECK, task=T2,
            hint="trainer = Trainer(model=model, args=args, train_dataset=dataset[\"train\"], "
                 "eval_dataset=dataset[\"validation\"], data_collator=collator, processing_class=tokenizer), then "
                 "trainer.train(); args with num_train_epochs=3 and eval_strategy=\"epoch\".",
            more_hint="Run the cells in order: `model` is the PeftModel of the cell above the settings, and a second "
                      "trainer.train() after a failed one starts again from step 0.")
def _training(ns):
    from peft import PeftModel

    trainer = _trainer(ns)
    expect(isinstance(trainer.model, PeftModel),
           f"trainer.model is a {type(trainer.model).__name__}: train `model`, the PeftModel from get_peft_model.")
    expect(trainer.state.global_step > 0, "the trainer has not trained: run trainer.train().")
    epochs = _epochs_trained(trainer)
    expect(epochs >= MIN_EPOCHS - 1e-6, f"the trainer stopped at epoch {epochs:.2f}: train for at least {MIN_EPOCHS}.")
    n_train = len(trainer.train_dataset) if trainer.train_dataset is not None else 0
    expect(n_train >= MIN_TRAIN, f"the trainer trained on {n_train} examples: use dataset[\"train\"] ({MIN_TRAIN}).")
    evals = [h for h in trainer.state.log_history if "eval_loss" in h]
    epochs_evaluated = {round(h.get("epoch", 0)) for h in evals}
    missing = [e for e in range(1, MIN_EPOCHS + 1) if e not in epochs_evaluated]
    expect(not missing, f"no validation loss was logged after epoch(s) {missing}: set eval_strategy=\"epoch\" and "
                        "pass eval_dataset=dataset[\"validation\"].")
    expect(evals[-1]["eval_loss"] < evals[0]["eval_loss"],
           f"the validation loss did not fall ({evals[0]['eval_loss']:.3f} -> {evals[-1]['eval_loss']:.3f}).")


@part.check(LEAK_CHECK, task=T2,
            hint="Pass train_dataset=dataset[\"train\"], the given training tickets. The grader scores the adapter "
                 "on the hidden test split, so a model that has seen those tickets looks better than it is.")
def _leak(ns):
    trainer = _trainer(ns)
    leaked = _leaked_tickets(trainer.train_dataset)
    expect(not leaked, f"the trainer's train_dataset holds {leaked} of the 100 hidden test tickets: the test score "
                       "would measure memory, not learning. Train on dataset[\"train\"] only.")


def _strategy(value) -> str:
    return str(getattr(value, "value", value))


def _training_args(ns, name: str = "trainer"):
    """The ``TrainingArguments`` the learner's ``trainer`` (or another trainer variable) runs with."""
    from transformers import Trainer, TrainingArguments

    trainer = require(ns, name, Trainer)
    expect(isinstance(trainer.args, TrainingArguments),
           f"{name}.args is a {type(trainer.args).__name__}: build TrainingArguments(...) and pass it as args=.")
    return trainer.args


@part.check(ARGS_CHECK, task=T2,
            hint="TrainingArguments(output_dir=str(OUTPUT_DIR / \"run\"), num_train_epochs=3, learning_rate=4e-3, "
                 "eval_strategy=\"epoch\", **TRAIN_SETTINGS). In 4.x eval_strategy was called evaluation_strategy.",
            more_hint="LoRA's few new weights need big steps: the default learning rate, 5e-5, learns almost nothing "
                      "in 75 steps. **TRAIN_SETTINGS passes the given dict's entries as keyword arguments.")
def _args(ns):
    from helpers.device import mixed_precision, trainer_flags
    from helpers.paths import OUTPUTS_DIR

    args = _training_args(ns)
    problems = []
    if not MIN_LORA_LR <= args.learning_rate <= MAX_LORA_LR:
        problems.append(f"learning_rate is {args.learning_rate:g}: LoRA on 75 steps needs about 1e-3 to 1e-2 "
                        f"(between {MIN_LORA_LR:g} and {MAX_LORA_LR:g})")
    if _strategy(args.eval_strategy) != "epoch":
        problems.append(f"eval_strategy is {_strategy(args.eval_strategy)!r}: set eval_strategy=\"epoch\" for a "
                        "validation loss after every epoch")
    if not Path(args.output_dir).resolve().is_relative_to(OUTPUTS_DIR.resolve()):
        problems.append(f"output_dir is {args.output_dir!r}: put the Trainer's folder under outputs/ "
                        "(OUTPUT_DIR / \"run\"), which git ignores, not next to the notebooks")
    expected = mixed_precision(args.device)
    missing = []
    if {"bf16": bool(args.bf16), "fp16": bool(args.fp16)} != trainer_flags(expected):
        missing.append(f"bf16={args.bf16}, fp16={args.fp16} where this {args.device.type} wants {expected!r}")
    if _strategy(args.logging_strategy) != "steps" or not 0 < args.logging_steps <= MAX_LOGGING_STEPS:
        missing.append(f"a training-loss point every {args.logging_steps} steps")
    if [r for r in (args.report_to or []) if r != "none"]:
        missing.append(f"report_to={args.report_to!r}")
    if not 1 <= args.per_device_train_batch_size <= 16:
        missing.append(f"a batch of {args.per_device_train_batch_size}")
    if missing:
        problems.append("the given settings are missing (" + "; ".join(missing) + "): pass **TRAIN_SETTINGS")
    expect(not problems, "; ".join(problems) + ".")


# --------------------------------------------------------------------------- Task 3

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


@part.check(ADAPTER_CHECK, task=T3,
            hint="model.save_pretrained(ADAPTER_DIR) on the PeftModel writes adapter_config.json and "
                 "adapter_model.safetensors. merge_and_unload() or the base model's save_pretrained write "
                 "135 M weights.")
def _adapter(ns):
    _trained_adapter(ns)


@part.check(RELOAD_CHECK, task=T3,
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
    answers = generate_answers(reloaded, grader_tokenizer(), list(NEW_MESSAGES), max_new_tokens=MAX_NEW_TOKENS)
    not_json, off_vocabulary = [], []
    for message, answer in zip(NEW_MESSAGES, answers, strict=True):
        record = parse_prediction(answer)
        if record is None:
            not_json.append(f"{message!r} with {answer!r}")
            continue
        wrong = [f for f in ("intent", "product", "urgent") if not is_allowed(f, record.get(f))]
        if wrong:
            off_vocabulary.append(f"{message!r} with {answer!r} ({', '.join(wrong)} not allowed)")
    expect(not not_json, "reloaded answers " + "; ".join(not_json) + ": not a JSON record"
           + ("s" if len(not_json) > 1 else "") + ".")
    expect(len(off_vocabulary) <= MAX_OFF_VOCABULARY,
           "reloaded answers " + "; ".join(off_vocabulary) + f": at most {MAX_OFF_VOCABULARY} of "
           f"{len(NEW_MESSAGES)} new messages may get a value outside the allowed ones.")


@part.check(GAIN_CHECK, task=T3,
            hint="Train 3 epochs at a LoRA learning rate (Task 2), then save the trained adapter again with "
                 "model.save_pretrained(ADAPTER_DIR). The grader loads it from ADAPTER_DIR and scores the 100 test "
                 "tickets.",
            reads=("ADAPTER_DIR", "RESULTS_PATH"), requires=(ADAPTER_CHECK,),
            grading_only="it answers the 100 hidden test and 60 validation tickets with the saved adapter (1-2 "
                         "minutes on a laptop CPU); your validation score above is the same measurement")
def _gain(ns):
    try:
        folder = _adapter_files(ns)
    except AssertionError:
        expect(False, f"there is no trained adapter to evaluate {prerequisite(ADAPTER_CHECK)}.")
    signature = adapter_signature(folder)  # hashes the adapter's files: once per check
    scores = adapter_scores(signature)
    base = base_test_score()
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
    validation = adapter_scores(signature, "validation")["exact_match"]
    expect(scores["exact_match"] - validation <= MAX_TEST_LEAD,
           f"the saved adapter scores {_pct(scores['exact_match'])} on the hidden test tickets but "
           f"{_pct(validation)} on the validation tickets: a lead that large means it has seen test tickets "
           f"{prerequisite(LEAK_CHECK)}.")




def _expect_recorded(memory: dict, mode: str) -> None:
    """Fail unless ``memory[mode]`` is what the probe's own process recorded (not numbers a cell typed)."""
    from helpers.challenge.probe_records import read_record

    measured = memory[mode]
    record = read_record(measured.get("pid"), mode)
    expect(record is not None and all(measured.get(key) == value for key, value in record.items()),
           f"memory['{mode}'] is not a measurement of the memory probe (no record of process {measured.get('pid')!r} "
           f"measuring {mode}, or different numbers): measure it with compare_training_memory, never type it.")


# --------------------------------------------------------------------------- Bonus

QLORA_CONFIG_CHECK = ("bnb_config is a 4-bit NF4 BitsAndBytesConfig with double quantization and the device's "
                      "compute dtype")
QLORA_CHECK = "QLoRA: qlora_model has a 4-bit base, its trained adapter works, and it needs less memory than LoRA"
FULL_TRAINER_CHECK = "full_trainer fine-tunes every weight of a plain model at a full fine-tuning learning rate"
FULL_CHECK = "comparison sets LoRA against full fine-tuning: quality, time, peak memory and checkpoint size"
SCRIPT_CHECK = "INFERENCE_SCRIPT answers a message from the command line with a JSON record"
MAX_FULL_LR = 5e-4
"""Full fine-tuning moves every weight: rates above this wreck a 135 M model in a few steps."""


@part.check(QLORA_CONFIG_CHECK, task=B1,
            hint="BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"nf4\", bnb_4bit_use_double_quant=True, "
                 "bnb_4bit_compute_dtype=info.compute_dtype).")
def _qlora_config(ns):
    from transformers import BitsAndBytesConfig

    expect_nf4_config(require(ns, "bnb_config", BitsAndBytesConfig), "bnb_config")


@part.check(QLORA_CHECK, task=B1,
            hint="qlora_model = get_peft_model(prepare_model_for_kbit_training(<model loaded with "
                 "quantization_config=bnb_config>), make_lora_config()); qlora_trainer = Trainer(...) with your "
                 "Task 2 args and collator; save to QLORA_ADAPTER_DIR; the given cell then measures memory[\"qlora\"].")
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
    scores = score_model(PeftModel.from_pretrained(grader_4bit_base(), str(folder)), "test", limit=20)
    expect(scores["exact_match"] >= base_test_score() + MIN_GAIN / 2,
           f"the QLoRA adapter on the grader's 4-bit base scores {_pct(scores['exact_match'])} on 20 test tickets: "
           f"expected at least {_pct(base_test_score() + MIN_GAIN / 2)}.")


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


SCRIPT_MESSAGES = (*NEW_MESSAGES,
                   "The headphones in order KV-16180 never arrived. Cancel it please, I don't want them anymore.",
                   "URGENT!! where is my laptop, order HD-44918? it was due yesterday")
"""The messages the grader's runs of the inference script answer: :data:`NEW_MESSAGES` and two more, each naming a
product (see there), none shown to the learner."""
MAX_DIFFERENT_ANSWERS = 1
"""How many of :data:`SCRIPT_MESSAGES` the script may answer otherwise than the grader's own greedy generation with the
same adapter, in each of its two runs. Greedy answers are reproducible: on the 2-core AVX-512 BF16 Xeon of the test
machine the solution's adapter gave the same five answers in fp32 in one batch and one message at a time, on 1 and 2
threads, merged or not, and under bf16 autocast. The script may run elsewhere than the grader's fp32 CPU, though
(``model.to("cuda")``, fp16): another device's rounding can break a near tie of two tokens the other way and change
one answer (greedy answers differ between CPUs, see :data:`MAX_OFF_VOCABULARY`). One difference lets no script
through that ignores ``--adapter``: the control adapter answers in prose where the learner's answers with a record,
so such a script differs on every message of the control run."""


def _grader_answers(adapter: Path) -> list[str]:
    """:func:`~checks.parts.challenge_script.grader_answers` to :data:`SCRIPT_MESSAGES`, failing with a pointer to
    the adapter check when PEFT cannot load the adapter."""
    try:
        return grader_answers(adapter, SCRIPT_MESSAGES)
    except AdapterError as err:
        expect(False, f"{err} {prerequisite(ADAPTER_CHECK)}.")


@part.check(SCRIPT_CHECK, task=B3,
            grading_only="it starts your script twice in a new Python process (with your adapter and with a control "
                         "adapter), each loading the model (8-15 s on a laptop CPU), and generates the same answers "
                         "itself; the cell above shows your script's answers",
            hint="In answer_tickets.py: load_model returns PeftModel.from_pretrained(base, adapter_dir) and the "
                 "tokenizer (left padding); answer runs one greedy generate over the chat-template prompts and "
                 "decodes the new tokens only. The grader compares the lines with the greedy answers of the adapter "
                 "it passes with --adapter: yours, then one of its own.",
            reads=("INFERENCE_SCRIPT", "ADAPTER_DIR"))
def _script(ns):
    """Run the script on new messages with the learner's adapter, then with a control adapter; compare both runs
    with the grader's own greedy answers of the same adapters (about 25 s on a 2-core CPU)."""
    import shutil
    import tempfile

    script = require(ns, "INFERENCE_SCRIPT")
    expect(isinstance(script, str | os.PathLike) and Path(script).is_file(),
           f"INFERENCE_SCRIPT={script!r} is not a file.")
    script = Path(script)
    adapter = _adapter_dir(ns)
    expect((adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file(),
           f"there is no adapter to answer with {prerequisite(ADAPTER_CHECK)}.")
    n = len(SCRIPT_MESSAGES)
    lines = run_script(script, adapter, SCRIPT_MESSAGES)
    printed = lines[-n:]
    expected = dict(zip(SCRIPT_MESSAGES, _grader_answers(adapter), strict=True))
    invalid = [(m, line) for m, line in zip(SCRIPT_MESSAGES[n - len(printed):], printed, strict=True)
               if not is_valid_record(line)]
    if any(not is_valid_record(expected[m]) for m, _ in invalid):  # the adapter itself answers outside the format
        scores = adapter_scores(adapter_signature(adapter))
        expect(scores["exact_match"] >= base_test_score() + MIN_GAIN,
               f"the script printed {invalid[0][1]!r}; the adapter it loads has not learned the task "
               f"{prerequisite(GAIN_CHECK)}.")
    wrong = [(m, line) for m, line in invalid if answer_key(line) != answer_key(expected[m])]
    if wrong:
        message, line = wrong[0]
        where = f" for {message!r}" if len(lines) >= n else ""  # fewer lines than messages: which one is unknown
        expect(False, f"the script printed {line!r}{where}, not a JSON record with allowed values (the adapter in "
                      f"{adapter.name}/ answers {expected[message]!r}).")
    expect(len(lines) >= n, f"the script printed {len(lines)} line(s) for {n} messages: print one JSON line per "
                            "message, in their order (the given main does).")
    different = differences(SCRIPT_MESSAGES, printed, list(expected.values()))
    if len(different) > MAX_DIFFERENT_ANSWERS:
        message, line, answer = different[0]
        expect(False, f"the script answered {message!r} with {line!r}, but the adapter in {adapter.name}/ answers "
                      f"{answer!r} ({len(different)} of {n} new messages differ from the grader's own answers, at "
                      f"most {MAX_DIFFERENT_ANSWERS} may): answer with the model loaded from --adapter, greedily "
                      f"(do_sample=False, max_new_tokens={MAX_NEW_TOKENS}) from the chat-template prompt.")

    control = Path(tempfile.mkdtemp(prefix="script-adapter-"))
    try:
        try:
            save_control_adapter(adapter, control)
        except AdapterError as err:
            expect(False, f"{err} {prerequisite(ADAPTER_CHECK)}.")
        control_lines = run_script(script, control, SCRIPT_MESSAGES, when="with a different adapter (the grader's), ")
        control_expected = _grader_answers(control)
    finally:
        shutil.rmtree(control, ignore_errors=True)
    control_different = differences(SCRIPT_MESSAGES, control_lines, control_expected)
    if len(control_different) > MAX_DIFFERENT_ANSWERS:
        same = [answer_key(line) for line in control_lines[-n:]] == [answer_key(line) for line in printed]
        expect(not same, "the script gave the same answers with a different adapter (a copy of yours with every "
                         "lora_B weight set to zero, which answers like the base model): answer with the model "
                         "loaded from --adapter (PeftModel.from_pretrained(base, adapter_dir)), not from a fixed "
                         "path or hand-written rules.")
        message, line, answer = control_different[0]
        expect(False, f"with a different adapter (a copy of yours with every lora_B weight set to zero) the script "
                      f"answered {message!r} with {line!r}, but that adapter answers {answer!r} "
                      f"({len(control_different)} of {n} messages differ): answer with the model loaded from "
                      "--adapter (PeftModel.from_pretrained(base, adapter_dir)).")
