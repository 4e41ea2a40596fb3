"""Mistake: types a full fine-tuning measurement (a made-up process id and peak) instead of measuring it."""

CHECK = "memory holds LoRA and full fine-tuning peaks measured in separate processes, LoRA's below full's"
MESSAGE = "is not a measurement of the memory probe"

memory = {**memory, "full": {**memory["full"], "pid": 4242, "peak_bytes": memory["full"]["peak_bytes"] + 10**9}}
