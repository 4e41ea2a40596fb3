"""Mistake: hard-codes SmolLM2's layer sizes instead of reading them from the config."""

CHECK = "lora_param_count follows r, target_modules and the config"
MESSAGE = "for a small Llama (hidden 96, 3 layers)"

SMOLLM2_LINEAR_SIZES = {"q_proj": (576, 576), "k_proj": (576, 192), "v_proj": (576, 192), "o_proj": (576, 576),
                        "gate_proj": (576, 1536), "up_proj": (576, 1536), "down_proj": (1536, 576)}


def lora_param_count(config, r, target_modules):
    return 30 * sum(r * sum(SMOLLM2_LINEAR_SIZES[name]) for name in target_modules)
