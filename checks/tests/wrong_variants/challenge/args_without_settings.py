"""Mistake: leaves out **TRAIN_SETTINGS: the loss is logged every 500 steps (never, in a 75-step run)."""

import copy

CHECK = "args: a LoRA learning rate, a validation loss every epoch, the given TRAIN_SETTINGS, a folder under outputs/"
MESSAGE = "pass **TRAIN_SETTINGS"

trainer = copy.copy(trainer)
trainer.args = TrainingArguments(output_dir=str(OUTPUT_DIR / "run"), num_train_epochs=3, learning_rate=4e-3,
                                 eval_strategy="epoch")
