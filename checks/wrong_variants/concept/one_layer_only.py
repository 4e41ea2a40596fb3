"""Mistake: counts the adapters of the first decoder layer only."""

CHECK = "lora_param_count matches PEFT for SmolLM2 with r=8 on q_proj and v_proj"
MESSAGE = "That is one layer's count"


def lora_param_count(config, r, target_modules):
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    total = 0
    for name, module in skeleton.model.layers[0].named_modules():
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in target_modules:
            total += r * (module.in_features + module.out_features)
    return total
