"""Mistake: "creative" is calmer than "balanced" (the temperatures are swapped)."""

CHECK = "factual is greedy; balanced and creative sample with rising temperature and top_p"
MESSAGE = "creative's temperature (0.7) should be higher than balanced's (1.1)"

PRESETS = {
    "factual": GenerationConfig(do_sample=False, max_new_tokens=24),
    "balanced": GenerationConfig(do_sample=True, temperature=1.1, top_p=0.9, max_new_tokens=24),
    "creative": GenerationConfig(do_sample=True, temperature=0.7, top_p=0.97, max_new_tokens=24),
}
