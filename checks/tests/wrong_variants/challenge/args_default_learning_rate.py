"""Mistake: keeps the Trainer's default learning rate, 5e-5, far too small for LoRA in 75 steps."""

import copy
import dataclasses

CHECK = "args: a LoRA learning rate, a validation loss every epoch, the given TRAIN_SETTINGS, a folder under outputs/"
MESSAGE = "learning_rate is 5e-05"

trainer = copy.copy(trainer)
trainer.args = dataclasses.replace(args, learning_rate=5e-5)
