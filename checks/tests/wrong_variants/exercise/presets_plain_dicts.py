"""Mistake: presets written as plain dicts of keyword arguments instead of GenerationConfig objects."""

CHECK = "PRESETS maps factual, balanced and creative to GenerationConfigs"
MESSAGE = "should be a GenerationConfig, got dict"

PRESETS = {
    "factual": {"do_sample": False, "max_new_tokens": 24},
    "balanced": {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 24},
    "creative": {"do_sample": True, "temperature": 1.1, "top_p": 0.97, "max_new_tokens": 24},
}
