"""Mistake: measures full fine-tuning on a batch of 1, which makes its peak look small."""

CHECK = "memory holds LoRA and full fine-tuning peaks measured in separate processes, LoRA's below full's"
MESSAGE = "compare the same batch"

memory = {**memory, "full": measure_training_memory("full", batch=collator([dataset["train"][0]]))}
