"""Mistake: forgets task_type, so PEFT does not wrap the model as a causal LM."""

CHECK = "make_lora_config returns a LoraConfig for a causal LM"
MESSAGE = "task_type is None"

def make_lora_config():
    return LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
