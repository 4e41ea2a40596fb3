"""The LoRA challenge's training data, given to the learner: tickets tokenized with the chat template, prompt masked.

The challenge's tasks are the ``LoraConfig``, the ``Trainer`` and saving the adapter; the data set they train on is
ready-made here and shown in the notebook::

    dataset = build_dataset(tokenizer, train_size=100, validation_size=20)
    print(show_labels(dataset["train"][0], tokenizer))   # which tokens the loss learns, which it ignores

The model learns only the answer: every prompt token is labelled ``-100`` (the index the cross-entropy loss
ignores) and the answer's end-of-turn token ``<|im_end|>`` keeps its label, so the fine-tuned model stops after
the JSON. The grader's reference solution (:mod:`checks.reference.data`) tokenizes with the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.challenge.task import load_splits, to_messages
from helpers.env import progress_bars_off

if TYPE_CHECKING:
    from datasets import DatasetDict
    from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100
"""The label the loss skips (``torch.nn.CrossEntropyLoss(ignore_index=-100)``)."""


def _token_ids(encoded: Any) -> list[int]:
    """``apply_chat_template(tokenize=True)`` output as a flat list of ids.

    transformers 5 returns a ``BatchEncoding`` (``return_dict=True`` is the default) where 4.x
    returned a list; both are accepted here.
    """
    if isinstance(encoded, Mapping):
        encoded = encoded["input_ids"]
    ids = list(encoded.tolist() if hasattr(encoded, "tolist") else encoded)
    if ids and isinstance(ids[0], list):  # a batch of one conversation
        if len(ids) != 1:
            raise ValueError(f"expected one conversation, got {len(ids)}")
        ids = ids[0]
    return [int(i) for i in ids]


def tokenize_ticket(row: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase) -> dict[str, list[int]]:
    """Token ids and loss labels of one ticket, for causal-LM fine-tuning.

    The chat template is applied twice: to the prompt (system + user + the generation
    prompt ``<|im_start|>assistant\\n``) and to the whole chat with the answer
    (``to_messages(row["message"], row)``). The answer tokens are what follows the prompt,
    up to and including the end-of-turn token (``tokenizer.eos_token``, ``<|im_end|>`` =
    id 2 for SmolLM2); the template's newline after it is dropped.

    Args:
        row: a ticket with ``"message"`` and the four record fields (a dataset row).
        tokenizer: the chat model's tokenizer (with a chat template and an EOS token).

    Returns:
        ``{"input_ids", "attention_mask", "labels"}``, three lists of the same length
        (about 90 tokens): ``labels`` is :data:`IGNORE_INDEX` on every prompt token and
        equals ``input_ids`` on the answer tokens, the final ``<|im_end|>`` included.

    Raises:
        ValueError: the record holds a value outside the task's allowed values, the
            prompt's tokens are not a prefix of the full chat's, or the answer has no
            end-of-turn token.
    """
    prompt = _token_ids(tokenizer.apply_chat_template(
        to_messages(row["message"]), add_generation_prompt=True, tokenize=True, return_dict=False))
    full = _token_ids(tokenizer.apply_chat_template(
        to_messages(row["message"], row), tokenize=True, return_dict=False))
    if full[: len(prompt)] != prompt:
        raise ValueError("the prompt's tokens are not a prefix of the full chat's: cannot mask the prompt.")
    answer = full[len(prompt):]
    end = tokenizer.eos_token_id
    if end is None or end not in answer:
        raise ValueError(f"the answer has no end-of-turn token ({tokenizer.eos_token!r}) in {answer}.")
    answer = answer[: answer.index(end) + 1]
    input_ids = prompt + answer
    return {
        "input_ids": input_ids,
        "attention_mask": [1] * len(input_ids),
        "labels": [IGNORE_INDEX] * len(prompt) + answer,
    }


def _size(value: int | None, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
    return value


def build_dataset(
    tokenizer: PreTrainedTokenizerBase,
    *,
    train_size: int | None = 100,
    validation_size: int | None = 20,
    data_dir: str | Path | None = None,
) -> DatasetDict:
    """The challenge's ``train`` and ``validation`` splits, tokenized by :func:`tokenize_ticket`.

    Args:
        tokenizer: the chat model's tokenizer.
        train_size: the first ``train_size`` training tickets (``None``: all 240).
        validation_size: the first ``validation_size`` validation tickets (``None``: all 60); the Trainer's
            per-epoch validation loss needs only a few, and a few keep it fast on a CPU.
        data_dir: folder of the ``<split>.jsonl`` files (default: the repository's).

    Returns:
        A ``DatasetDict`` whose two splits have exactly the columns ``input_ids``, ``attention_mask`` and
        ``labels`` (lists of ints, unpadded: the collator pads each batch). The hidden ``test`` split is never
        loaded.

    Raises:
        ValueError: a size is not a positive int.
        FileNotFoundError: a split file is missing.
    """
    sizes = {"train": _size(train_size, "train_size"), "validation": _size(validation_size, "validation_size")}
    raw = load_splits(tuple(sizes), data_dir)
    with progress_bars_off():
        for name, size in sizes.items():
            rows = raw[name] if size is None else raw[name].select(range(min(size, len(raw[name]))))
            raw[name] = rows.map(tokenize_ticket, fn_kwargs={"tokenizer": tokenizer}, remove_columns=rows.column_names)
    return raw


def show_labels(example: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase) -> str:
    """Two lines: the text whose labels are -100 (no loss) and the text the model learns, of one tokenized example."""
    pairs = list(zip(example["input_ids"], example["labels"], strict=True))
    masked = [token for token, label in pairs if label == IGNORE_INDEX]
    learned = [token for token, label in pairs if label != IGNORE_INDEX]
    return (f"{len(masked)} tokens labelled -100, no loss: {tokenizer.decode(masked)!r}\n"
            f"{len(learned)} tokens the model learns:   {tokenizer.decode(learned)!r}")
