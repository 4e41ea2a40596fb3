"""Autograder for 01 · Concept: five short self-checks on the Hugging Face ecosystem.

The checks never trust what the notebook prints or stores. They load SmolLM2's tokenizer and
config themselves, count tokens with their own tokenizer, compute memory with their own arithmetic
and count LoRA parameters with PEFT itself (adapters injected into a model built on the ``meta``
device, so nothing is allocated). Types are compared exactly: ``True`` is not an ``int`` and
``"AutoModel"`` is not a class.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from typing import Any

import torch

from grader import Part, expect, prerequisite, require

NOTEBOOK = "01_concept"
part = Part("concept")

T1 = "Self-check 1: count tokens"
T2 = "Self-check 2: padding side"
T3 = "Self-check 3: pick the Auto class"
T4 = "Self-check 4: weight memory"
T5 = "Self-check 5: LoRA parameters"

TEXT_TO_COUNT = "In 2025, tokenizers still split unbelievably long words."
"""The grader's own copy of the notebook's text (changing it in the notebook changes nothing here)."""


# --------------------------------------------------------------------------- the grader's own tokenizers


@functools.cache
def _tokenizer(model_id: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_id)


@functools.cache
def _chat_config():
    from transformers import AutoConfig

    from helpers.models import CHAT_MODEL_ID

    return AutoConfig.from_pretrained(CHAT_MODEL_ID)


# --------------------------------------------------------------------------- Self-check 1


@part.check("n_tokens is the number of tokens SmolLM2's tokenizer makes of TEXT_TO_COUNT", task=T1,
            hint="Tokenize the text with the chat model's tokenizer and take the length of its input_ids. "
                 "Words and characters are not tokens: numbers and rare words split into several pieces.")
def _n_tokens(ns):
    from helpers.models import CHAT_MODEL_ID, EMBEDDING_MODEL_ID

    n_tokens = require(ns, "n_tokens")
    expect(n_tokens is not None, "n_tokens is None: compute it in the cell of Self-check 1 and run that cell.")
    expect(type(n_tokens) is int,
           f"n_tokens should be an int, got {type(n_tokens).__name__} {n_tokens!r}"
           + (": len(...) of the ids is a plain int." if isinstance(n_tokens, torch.Tensor | list | tuple) else "."))
    expected = len(_tokenizer(CHAT_MODEL_ID)(TEXT_TO_COUNT)["input_ids"])
    if n_tokens == expected:
        return
    why = ""
    if n_tokens == len(TEXT_TO_COUNT.split()):
        why = " That is the number of words: a tokenizer splits words, digits and punctuation into pieces."
    elif n_tokens == len(TEXT_TO_COUNT):
        why = " That is the number of characters."
    elif n_tokens == len(_tokenizer(EMBEDDING_MODEL_ID)(TEXT_TO_COUNT)["input_ids"]):
        why = " That is what MiniLM's WordPiece tokenizer makes (with [CLS] and [SEP]): use SmolLM2's `tokenizer`."
    expect(False, f"n_tokens is {n_tokens}, but SmolLM2's tokenizer makes {expected} tokens of TEXT_TO_COUNT.{why}")


# --------------------------------------------------------------------------- Self-check 2


@part.check("generation_padding_side is the side a decoder-only model pads for batched generation", task=T2,
            hint="A decoder-only model predicts the next token from the last position of each row. Which side "
                 "keeps the real tokens of a short prompt at the end of its row? Look at the padding table.")
def _padding_side(ns):
    side = require(ns, "generation_padding_side")
    expect(type(side) is str, f"generation_padding_side should be a str, 'left' or 'right', got "
                              f"{type(side).__name__} {side!r}.")
    expect(side.strip().lower() in ("left", "right"),
           f"generation_padding_side is {side!r}: the answer is 'left' or 'right'.")
    expect(side == "left",
           f"generation_padding_side is {side!r}: right padding puts pad tokens after a short prompt, so the "
           "position the model continues from is a pad, and its next token is nonsense, as the padding table shows."
           if side.strip().lower() == "right" else
           f"generation_padding_side is {side!r}: write it in lower case, exactly as tokenizer.padding_side "
           "expects it.")


# --------------------------------------------------------------------------- Self-check 3

TASKS = ("text generation", "sentence embeddings", "sentiment classification", "translation")
AUTO_TYPES_CHECK = "auto_class_for maps the four tasks to Auto classes"

_REASONS = {
    "text generation": "generating text needs next-token scores over the vocabulary, the head of a causal LM",
    "sentence embeddings": "an embedding is the encoder's hidden states, without any task head on top",
    "sentiment classification": "one label for a whole text needs a classification head on the sequence",
    "translation": "writing a new sequence from a whole input sequence is an encoder-decoder's job, with an LM head",
}


def _expected_auto_classes() -> dict[str, type]:
    import transformers

    return {
        "text generation": transformers.AutoModelForCausalLM,
        "sentence embeddings": transformers.AutoModel,
        "sentiment classification": transformers.AutoModelForSequenceClassification,
        "translation": transformers.AutoModelForSeq2SeqLM,
    }


def _auto_classes(ns, *, owner: bool = False) -> dict[str, Any]:
    pointer = "" if owner else f" {prerequisite(AUTO_TYPES_CHECK)}"
    mapping = require(ns, "auto_class_for")
    expect(type(mapping) is dict, f"auto_class_for should be a dict, got {type(mapping).__name__}{pointer}.")
    missing = [t for t in TASKS if t not in mapping]
    extra = [k for k in mapping if k not in TASKS]
    expect(not missing, f"auto_class_for has no entry for {missing} (keys: {list(mapping)}){pointer}.")
    expect(not extra, f"auto_class_for has unexpected keys {extra}: use exactly {list(TASKS)}{pointer}.")
    for task in TASKS:
        value = mapping[task]
        if isinstance(value, str):
            expect(False, f"auto_class_for[{task!r}] is the str {value!r}: use the class itself, imported from "
                          f"transformers, not its name{pointer}.")
        expect(isinstance(value, type) and value.__name__.startswith("Auto"),
               f"auto_class_for[{task!r}] should be an Auto class such as AutoModel, got "
               f"{getattr(value, '__name__', type(value).__name__)}{pointer}.")
    return mapping


@part.check(AUTO_TYPES_CHECK, task=T3,
            hint="Values are classes such as AutoModel (imported in the set-up cell), not strings, and not "
                 "instances: no from_pretrained call is needed.")
def _auto_types(ns):
    _auto_classes(ns, owner=True)


@part.check("auto_class_for picks the Auto class whose head fits each task", task=T3,
            hint="The For... suffix names the head. Decide, for each task, whether it needs next-token scores, "
                 "bare hidden states, one label per text, or an encoder-decoder; the architecture table lists them.")
def _auto_values(ns):
    mapping = _auto_classes(ns)
    for task, expected in _expected_auto_classes().items():
        chosen = mapping[task]
        expect(chosen is expected,
               f"auto_class_for[{task!r}] is {chosen.__name__}, which does not fit: {_REASONS[task]}.")


# --------------------------------------------------------------------------- Self-check 4

WEIGHT_TYPES_CHECK = "weight_bytes gives the bytes of 32-, 16- and 8-bit weights"
SMOLLM2_PARAMS = 134_515_008


def _bytes(ns, n_params: int, bits: int, *, owner: bool = False) -> int | float:
    weight_bytes = require(ns, "weight_bytes", callable)
    out = weight_bytes(n_params, bits)
    pointer = "" if owner else f" {prerequisite(WEIGHT_TYPES_CHECK)}"
    expect(type(out) in (int, float),
           f"weight_bytes({n_params}, {bits}) returned {type(out).__name__} {out!r}: return a plain number of "
           f"bytes (int or float){pointer}.")
    return out


@part.check(WEIGHT_TYPES_CHECK, task=T4,
            hint="A byte holds 8 bits. Multiply the number of weights by the bits of each, then convert to bytes; "
                 "fp32 takes 4 bytes per weight, bf16 2, int8 1.")
def _weight_bytes_whole(ns):
    for n_params, bits in ((SMOLLM2_PARAMS, 32), (SMOLLM2_PARAMS, 16), (1_000, 8), (3, 32)):
        out = _bytes(ns, n_params, bits, owner=True)
        expected = n_params * bits / 8
        if math.isclose(out, expected, rel_tol=1e-9):
            continue
        why = ""
        if math.isclose(out, n_params * bits, rel_tol=1e-9):
            why = " That is the number of bits, not bytes."
        elif out and math.isclose(out, expected / 2**20, rel_tol=1e-6):
            why = " That is MiB: return bytes, and convert only for display."
        expect(False, f"weight_bytes({n_params:,}, {bits}) returned {out:,}, expected {expected:,.0f} bytes.{why}")


@part.check("weight_bytes counts half a byte for each 4-bit weight", task=T4,
            hint="Two 4-bit weights share one byte. Integer arithmetic (// or bits // 8) rounds the half bytes "
                 "away; true division keeps them.")
def _weight_bytes_nf4(ns):
    expect(math.isclose(_bytes(ns, 1_000, 8), 1_000),
           f"weight_bytes must first be right for whole bytes {prerequisite(WEIGHT_TYPES_CHECK)}.")
    for n_params in (1_001, SMOLLM2_PARAMS):
        out = _bytes(ns, n_params, 4)
        expected = n_params * 4 / 8
        expect(math.isclose(out, expected, rel_tol=1e-9),
               f"weight_bytes({n_params:,}, 4) returned {out:,}, expected {expected:,}: at 4 bits each weight "
               "takes half a byte.")


# --------------------------------------------------------------------------- Self-check 5

LORA_SMOLLM2_CHECK = "lora_param_count matches PEFT for SmolLM2 with r=8 on q_proj and v_proj"


def _tiny_llama_config():
    """A small Llama config with sizes unlike SmolLM2's: a hard-coded answer cannot pass."""
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=1000, hidden_size=96, intermediate_size=200, num_hidden_layers=3,
                       num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256)


_CONFIGS = {"SmolLM2": _chat_config, "a small Llama (hidden 96, 3 layers)": _tiny_llama_config}


@functools.cache
def peft_count(config_name: str, r: int, target_modules: tuple[str, ...]) -> int:
    """Trainable parameters according to PEFT itself: adapters on a model built on the meta device."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):  # shapes only: nothing is allocated
        skeleton = AutoModelForCausalLM.from_config(copy.deepcopy(_CONFIGS[config_name]()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # peft 0.21 reads a deprecated Transformers attribute
        lora = get_peft_model(skeleton, LoraConfig(r=r, lora_alpha=2 * r, target_modules=list(target_modules),
                                                   task_type="CAUSAL_LM"))
    trainable, _ = lora.get_nb_trainable_parameters()
    return int(trainable)


def _lora_count(ns, config_name: str, r: int, target_modules: tuple[str, ...], *, owner: bool = False) -> int:
    lora_param_count = require(ns, "lora_param_count", callable)
    out = lora_param_count(copy.deepcopy(_CONFIGS[config_name]()), r, list(target_modules))
    pointer = "" if owner else f" {prerequisite(LORA_SMOLLM2_CHECK)}"
    expect(type(out) is int,
           f"lora_param_count returned {type(out).__name__} {out!r}: a parameter count is a plain int{pointer}.")
    return out


def _square_projection_count(config_name: str, r: int, target_modules: tuple[str, ...]) -> int:
    """The count when every attention projection is taken as hidden x hidden (grouped-query attention missed)."""
    config = _CONFIGS[config_name]()
    h, i = config.hidden_size, config.intermediate_size
    sizes = {"q_proj": 2 * h, "k_proj": 2 * h, "v_proj": 2 * h, "o_proj": 2 * h,
             "gate_proj": h + i, "up_proj": h + i, "down_proj": h + i}
    return config.num_hidden_layers * r * sum(sizes.get(m, 0) for m in target_modules)


@part.check(LORA_SMOLLM2_CHECK, task=T5,
            hint="Each adapted nn.Linear trains A (r x in_features) and B (out_features x r). Read in_features and "
                 "out_features from the layers of a model built from the config, in every decoder layer.")
def _lora_smollm2(ns):
    modules = ("q_proj", "v_proj")
    out = _lora_count(ns, "SmolLM2", 8, modules, owner=True)
    expected = peft_count("SmolLM2", 8, modules)
    if out == expected:
        return
    config = _chat_config()
    why = ""
    if out == _square_projection_count("SmolLM2", 8, modules):
        why = (f" That treats v_proj as {config.hidden_size} x {config.hidden_size}, but with grouped-query attention "
               f"({config.num_key_value_heads} key/value heads) it outputs only "
               f"{config.num_key_value_heads * config.hidden_size // config.num_attention_heads} features.")
    elif out * config.num_hidden_layers == expected:
        why = f" That is one layer's count: SmolLM2 has {config.num_hidden_layers} decoder layers."
    expect(False, f"lora_param_count(chat_config, 8, ['q_proj', 'v_proj']) returned {out:,}; PEFT trains "
                  f"{expected:,} parameters.{why}")


@part.check("lora_param_count follows r, target_modules and the config", task=T5,
            hint="Use the r and target_modules you are given, and read every size from the config passed in: "
                 "the check also tries other ranks, the MLP projections and a smaller Llama.")
def _lora_general(ns):
    cases = (
        ("SmolLM2", 4, ("q_proj", "k_proj", "v_proj", "o_proj")),
        ("SmolLM2", 16, ("gate_proj", "up_proj", "down_proj")),
        ("a small Llama (hidden 96, 3 layers)", 2, ("q_proj", "v_proj")),
        ("a small Llama (hidden 96, 3 layers)", 8, ("k_proj", "o_proj", "down_proj")),
    )
    first = _lora_count(ns, "SmolLM2", 8, ("q_proj", "v_proj"))
    expect(first == peft_count("SmolLM2", 8, ("q_proj", "v_proj")),
           f"lora_param_count must first be right for r=8 on q_proj and v_proj {prerequisite(LORA_SMOLLM2_CHECK)}.")
    for config_name, r, modules in cases:
        out = _lora_count(ns, config_name, r, modules)
        expected = peft_count(config_name, r, modules)
        expect(out == expected,
               f"for {config_name} with r={r} on {list(modules)}, lora_param_count returned {out:,}; PEFT "
               f"trains {expected:,} parameters.")
