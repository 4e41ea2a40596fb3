"""Mistake: treats every attention projection as hidden x hidden, missing grouped-query attention."""

CHECK = "lora_param_count matches PEFT for SmolLM2 with r=8 on q_proj and v_proj"
MESSAGE = "grouped-query attention"


def lora_param_count(config, r, target_modules):
    h, i = config.hidden_size, config.intermediate_size
    shapes = {"q_proj": (h, h), "k_proj": (h, h), "v_proj": (h, h), "o_proj": (h, h),
              "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return config.num_hidden_layers * sum(r * sum(shapes[name]) for name in target_modules)
