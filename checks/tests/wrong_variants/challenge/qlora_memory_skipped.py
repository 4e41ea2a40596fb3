"""Mistake: trains QLoRA but never measures its memory, so nothing shows that 4-bit saves any."""

CHECK = "QLoRA: qlora_model has a 4-bit base, its trained adapter works, and it needs less memory than LoRA"
MESSAGE = "memory needs 'qlora' and 'lora' measurements"

memory = {mode: value for mode, value in memory.items() if mode != "qlora"}
