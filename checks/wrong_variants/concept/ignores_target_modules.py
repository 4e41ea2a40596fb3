"""Mistake: always counts q_proj and v_proj, whatever target_modules says."""

CHECK = "lora_param_count follows r, target_modules and the config"
MESSAGE = "for SmolLM2 with r=4 on ['q_proj', 'k_proj', 'v_proj', 'o_proj']"


def lora_param_count(config, r, target_modules):
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    total = 0
    for name, module in skeleton.named_modules():
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in ("q_proj", "v_proj"):
            total += r * (module.in_features + module.out_features)
    return total
