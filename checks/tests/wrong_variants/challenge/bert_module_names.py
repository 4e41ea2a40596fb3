"""Mistake: copies BERT's module names from a tutorial; SmolLM2 has no `query` or `value` layers."""

CHECK = "the LoRA target modules exist in SmolLM2"
MESSAGE = "PEFT cannot apply the config to SmolLM2"

def make_lora_config():
    return LoraConfig(task_type="CAUSAL_LM", r=16, lora_alpha=32, lora_dropout=0.0, target_modules=["query", "value"])
