"""Mistake: trains QLoRA but never measures its memory, so nothing shows that 4-bit saves any."""

CHECK = "QLoRA: a 4-bit NF4 double-quantized base, an adapter that works, less memory than LoRA"
MESSAGE = "memory needs 'qlora' and 'lora' measurements"

memory = {mode: value for mode, value in memory.items() if mode != "qlora"}
