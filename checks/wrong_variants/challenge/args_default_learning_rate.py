"""Mistake: keeps the Trainer's default learning rate, 5e-5, far too small for LoRA in 75 steps."""

import copy

CHECK = "TrainingArguments use a LoRA learning rate, a small batch and an output folder under outputs/"
MESSAGE = "learning_rate is 5e-05"

trainer = copy.copy(trainer)
trainer.args = dataclasses.replace(args, learning_rate=5e-5)
