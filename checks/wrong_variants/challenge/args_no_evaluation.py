"""Mistake: leaves eval_strategy at "no", so the run shows no validation loss to compare with the training loss."""

import copy

CHECK = "TrainingArguments validate every epoch, log the training loss and report to no online service"
MESSAGE = "eval_strategy is 'no'"

trainer = copy.copy(trainer)
trainer.args = dataclasses.replace(args, eval_strategy="no")
