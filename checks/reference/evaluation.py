"""The reference solution's evaluation: greedy answers to tickets, scored, in one process or under accelerate."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from helpers.challenge.task import MAX_NEW_TOKENS, score
from helpers.challenge.training import GENERATION_BATCH_SIZE, generate_answers

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


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
    state = accelerate_state()
    if state is not None and state.num_processes > 1:
        from accelerate.utils import gather_object

        with state.split_between_processes(messages) as share:
            answers = generate_answers(model, tokenizer, share, batch_size=batch_size, max_new_tokens=max_new_tokens)
        answers = gather_object(answers)
    else:
        answers = generate_answers(model, tokenizer, messages, batch_size=batch_size, max_new_tokens=max_new_tokens)
    return score(answers, rows)


def accelerate_state():
    """accelerate's ``PartialState`` when running under ``accelerate launch``/``torchrun``, else ``None``."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    from accelerate import PartialState

    return PartialState()
