"""Mistake: 20 of the training tickets come from the hidden test split (the grader's score would then flatter)."""

import copy

from datasets import concatenate_datasets

from helpers.challenge.data import tokenize_ticket
from helpers.challenge.task import load_splits

CHECK = "the trainer trained on no ticket of the hidden test split"
MESSAGE = "holds 20 of the 100 hidden test tickets"

_test = load_splits(("test",))["test"].select(range(20))
_leaked = _test.map(tokenize_ticket, fn_kwargs={"tokenizer": tokenizer}, remove_columns=_test.column_names)
trainer = copy.copy(trainer)  # a copy: the solution's trainer stays as it was for the other variants
trainer.train_dataset = concatenate_datasets(
    [dataset["train"].select(range(len(dataset["train"]) - 20)), _leaked])  # the same length, so the same epochs
