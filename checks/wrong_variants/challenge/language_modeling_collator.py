"""Mistake: DataCollatorForLanguageModeling, which sets the label of every pad-token id, <|im_end|> too, to -100."""

import copy

from transformers import DataCollatorForLanguageModeling

CHECK = "the trainer's collator pads without masking the real <|im_end|> labels"
MESSAGE = "the answer's <|im_end|> label became -100"

trainer = copy.copy(trainer)
trainer.data_collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
