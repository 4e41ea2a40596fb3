"""Mistake: a rank of 256 on every projection: no longer a parameter-efficient adapter."""

CHECK = "LoRA trains well under 5 % of the parameters"
MESSAGE = "parameters are trainable"

def make_lora_config():
    return LoraConfig(task_type="CAUSAL_LM", r=256, lora_alpha=512, lora_dropout=0.0,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
