"""The reference solution's data: the ticket splits tokenized for training, and the collator that pads them.

The model learns only the answer: every prompt token is labelled ``-100`` and the answer's end-of-turn token
``<|im_end|>`` is kept as a label, so the fine-tuned model stops after the JSON (:func:`tokenize_example`, the
notebook's given data set is built by the same function).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.challenge.data import IGNORE_INDEX, tokenize_ticket
from helpers.challenge.task import load_splits
from helpers.env import progress_bars_off

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from transformers import PreTrainedTokenizerBase

tokenize_example = tokenize_ticket
"""Token ids and loss labels of one ticket (:func:`helpers.challenge.data.tokenize_ticket`): the notebook's data set is
given, built by the same function."""


def take_first(dataset: Dataset, limit: int | None) -> Dataset:
    """The first ``limit`` rows of ``dataset`` (all of them when it has fewer, or when ``limit`` is ``None``).

    Raises:
        ValueError: ``limit`` is not a positive int or ``None``.
    """
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
        data_dir: folder of the ``<split>.jsonl`` files (default: :data:`helpers.paths.TICKETS_DIR`).

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
            raw[name] = take_first(raw[name], limit).map(
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
