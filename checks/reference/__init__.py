"""The LoRA challenge's reference solution, which the challenge's checks compare against.

:mod:`.data` (tokenized splits, collator), :mod:`.recipe` (LoRA configuration, ``TrainingArguments``),
:mod:`.models` (SmolLM2 loaded and made trainable per mode), :mod:`.evaluation` (greedy answers, scored) and
:mod:`.lora` (the whole challenge end to end, ``python -m checks.reference.lora train``).
"""
