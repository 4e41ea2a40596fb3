"""Mistake: copies fp16=True from a GPU tutorial; on a CPU fp16 is emulated, slow and lossy."""

import copy

CHECK = "TrainingArguments take the precision from the device (bf16, fp16 or fp32)"
MESSAGE = "fp16=True"

trainer = copy.copy(trainer)
trainer.args = dataclasses.replace(args, fp16=True, bf16=False)
