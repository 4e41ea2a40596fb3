"""Mistake: a "factual" preset with a low temperature but no sampling: the temperature is silently ignored."""

CHECK = "every preset passes GenerationConfig.validate(strict=True)"
MESSAGE = "PRESETS['factual'] is invalid: - `temperature`"

PRESETS = {
    "factual": GenerationConfig(temperature=0.2, max_new_tokens=24),
    "balanced": GenerationConfig(do_sample=True, temperature=0.7, top_p=0.9, max_new_tokens=24),
    "creative": GenerationConfig(do_sample=True, temperature=1.1, top_p=0.97, max_new_tokens=24),
}
