"""Autograder for 01 · Concept: four short self-checks on the Hugging Face ecosystem.

The checks never trust what the notebook prints or stores. They count tokens with their own
tokenizer and compute memory and LoRA sizes with their own arithmetic (the LoRA count is also
what PEFT reports: the notebook shows both side by side). Types are compared exactly: ``True``
is not an ``int`` and ``"AutoModel"`` is not a class.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from checks.grader import Part, expect, prerequisite, require

part = Part("concept")

T1 = "Self-check 1: pick the Auto class"
T2 = "Self-check 2: count tokens"
T3 = "Self-check 3: weight memory"
T4 = "Self-check 4: LoRA parameters"

TEXT_TO_COUNT = "In 2025, tokenizers still split unbelievably long words."
"""The grader's own copy of the notebook's text (changing it in the notebook changes nothing here)."""


# --------------------------------------------------------------------------- the grader's own tokenizers


@functools.cache
def _tokenizer(model_id: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_id)


# --------------------------------------------------------------------------- Self-check 1

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
    strings = [f"auto_class_for[{t!r}] is the str {mapping[t]!r}" for t in TASKS if isinstance(mapping[t], str)]
    expect(not strings, "; ".join(strings) + f": use the class itself, imported from transformers, not its name"
                                             f"{pointer}.")
    others = [f"auto_class_for[{t!r}] is {getattr(mapping[t], '__name__', type(mapping[t]).__name__)}" for t in TASKS
              if not (isinstance(mapping[t], type) and mapping[t].__name__.startswith("Auto"))]
    expect(not others, "; ".join(others) + f": each value should be an Auto class such as AutoModel{pointer}.")
    return mapping


@part.check(AUTO_TYPES_CHECK, task=T1,
            hint="Add the three keys exactly as written in the task; the values are classes such as AutoModel "
                 "(imported in the task's cell), not strings, and not instances: no from_pretrained call is needed.")
def _auto_types(ns):
    _auto_classes(ns, owner=True)


@part.check("auto_class_for picks the Auto class whose head fits each task", task=T1,
            hint="The For... suffix names the head. Decide, for each task, whether it needs next-token scores, "
                 "bare hidden states, one label per text, or an encoder-decoder; the architecture table lists them.",
            more_hint="Look up each task in the table's last column and take the Auto class of its row.")
def _auto_values(ns):
    mapping = _auto_classes(ns)
    wrong = [f"auto_class_for[{task!r}] is {mapping[task].__name__}, which does not fit: {_REASONS[task]}"
             for task, expected in _expected_auto_classes().items() if mapping[task] is not expected]
    expect(not wrong, "; ".join(wrong) + ".")


# --------------------------------------------------------------------------- Self-check 2


@part.check("n_tokens is the number of tokens SmolLM2's tokenizer makes of TEXT_TO_COUNT", task=T2,
            hint="Tokenize the text with the chat model's tokenizer and take the length of its input_ids. "
                 "Words and characters are not tokens: numbers and rare words split into several pieces.",
            more_hint="tokenizer(TEXT_TO_COUNT) returns a dict-like object: count the ids in its \"input_ids\".")
def _n_tokens(ns):
    from helpers.models import CHAT_MODEL_ID, EMBEDDING_MODEL_ID

    n_tokens = require(ns, "n_tokens")
    expect(n_tokens is not None, "n_tokens is None: compute it in the cell of Self-check 2 and run that cell.")
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


# --------------------------------------------------------------------------- Self-check 3

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


@part.check(WEIGHT_TYPES_CHECK, task=T3,
            hint="A byte holds 8 bits. Multiply the number of weights by the bits of each, then convert to bytes; "
                 "fp32 takes 4 bytes per weight, bf16 2, int8 1.",
            more_hint="Check by hand: 1,000 weights at 8 bits take 1,000 bytes, at 32 bits 4,000; then write the "
                      "general rule with n_params and bits.")
def _weight_bytes_whole(ns):
    wrong, whys = [], []
    for n_params, bits in ((SMOLLM2_PARAMS, 32), (SMOLLM2_PARAMS, 16), (1_000, 8), (3, 32)):
        out = _bytes(ns, n_params, bits, owner=True)
        expected = n_params * bits / 8
        if math.isclose(out, expected, rel_tol=1e-9):
            continue
        wrong.append(f"weight_bytes({n_params:,}, {bits}) returned {out:,}, expected {expected:,.0f} bytes")
        if math.isclose(out, n_params * bits, rel_tol=1e-9):
            whys.append("That is the number of bits, not bytes.")
        elif out and math.isclose(out, expected / 2**20, rel_tol=1e-6):
            whys.append("That is MiB: return bytes, and convert only for display.")
    expect(not wrong, "; ".join(wrong) + "." + "".join(f" {why}" for why in dict.fromkeys(whys)))


@part.check("weight_bytes counts half a byte for each 4-bit weight", task=T3,
            hint="Two 4-bit weights share one byte. Integer arithmetic (// or bits // 8) rounds the half bytes "
                 "away; true division keeps them (math.ceil of it, the whole bytes needed, is right too).")
def _weight_bytes_nf4(ns):
    expect(math.isclose(_bytes(ns, 1_000, 8), 1_000),
           f"weight_bytes must first be right for whole bytes {prerequisite(WEIGHT_TYPES_CHECK)}.")
    wrong = []
    for n_params in (1_001, SMOLLM2_PARAMS):
        out = _bytes(ns, n_params, 4)
        expected = n_params * 4 / 8
        if not (math.isclose(out, expected, rel_tol=1e-9) or out == math.ceil(expected)):
            wrong.append(f"weight_bytes({n_params:,}, 4) returned {out:,}, expected {expected:,}"
                         + (f" (or {math.ceil(expected):,})" if expected != math.ceil(expected) else ""))
    expect(not wrong, "; ".join(wrong) + ": at 4 bits each weight takes half a byte.")


# --------------------------------------------------------------------------- Self-check 4

LORA_LAYER_CHECK = "lora_params counts A and B of one adapted layer"
SQUARE = (8, 576, 576)  # SmolLM2's q_proj, rank 8
NOT_SQUARE = ((8, 576, 192), (16, 1536, 576), (4, 96, 32))  # SmolLM2's v_proj and down_proj, a small layer


def _lora(ns, r: int, n_in: int, n_out: int, *, owner: bool = False) -> int:
    lora_params = require(ns, "lora_params", callable)
    out = lora_params(r, n_in, n_out)
    pointer = "" if owner else f" {prerequisite(LORA_LAYER_CHECK)}"
    expect(type(out) is int,
           f"lora_params({r}, {n_in}, {n_out}) returned {type(out).__name__} {out!r}: a count of numbers is a plain "
           f"int{pointer}.")
    return out


@part.check(LORA_LAYER_CHECK, task=T4,
            hint="A has r rows of in_features numbers, B has out_features rows of r numbers: LoRA trains both, and "
                 "W stays frozen.",
            more_hint="Count the entries of each matrix (rows × columns), then add the two counts.")
def _lora_layer(ns):
    r, n_in, n_out = SQUARE
    out = _lora(ns, r, n_in, n_out, owner=True)
    expected = r * (n_in + n_out)
    why = {r * n_in * n_out: " That is r × in × out: A and B are added, not multiplied.",
           n_in * n_out: " That is the size of the frozen W: LoRA trains A and B instead.",
           r * n_in: " That counts A only: B (out_features × r) is trained too."}.get(out, "")
    expect(out == expected, f"lora_params({r}, {n_in}, {n_out}) returned {out:,}; A and B of a rank-{r} adapter on "
                            f"nn.Linear({n_in}, {n_out}) hold {expected:,} numbers.{why}")


@part.check("lora_params works for layers that are not square, such as v_proj", task=T4,
            hint="Use in_features for A and out_features for B: with grouped-query attention SmolLM2's v_proj maps "
                 "576 features to 192.")
def _lora_not_square(ns):
    r, n_in, n_out = SQUARE
    expect(_lora(ns, r, n_in, n_out) == r * (n_in + n_out),
           f"lora_params must first be right for a square layer {prerequisite(LORA_LAYER_CHECK)}.")
    wrong = []
    for r, n_in, n_out in NOT_SQUARE:
        out = _lora(ns, r, n_in, n_out)
        if out != r * (n_in + n_out):
            square = " (as if the layer were square)" if out in (2 * r * n_in, 2 * r * n_out) else ""
            wrong.append(f"lora_params({r}, {n_in}, {n_out}) returned {out:,}{square}, expected {r * (n_in + n_out):,}")
    expect(not wrong, "; ".join(wrong) + ".")
