"""Mistake: full fine-tuning with LoRA's learning rate (4e-3), which wrecks every one of the 135 M weights."""

import copy
import dataclasses

CHECK = "full_trainer fine-tunes every weight of a plain model at a full fine-tuning learning rate"
MESSAGE = "full_trainer's learning_rate is 0.004"

full_trainer = copy.copy(full_trainer)
full_trainer.args = dataclasses.replace(full_args, learning_rate=4e-3)
