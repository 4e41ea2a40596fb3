"""Mistake: leaves eval_strategy at "no", so the run shows no validation loss to compare with the training loss."""

import copy
import dataclasses

CHECK = "args: a LoRA learning rate, a validation loss every epoch, the given TRAIN_SETTINGS, a folder under outputs/"
MESSAGE = "eval_strategy is 'no'"

trainer = copy.copy(trainer)
trainer.args = dataclasses.replace(args, eval_strategy="no")
