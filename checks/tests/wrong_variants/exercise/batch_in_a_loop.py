"""Mistake: "batching" by calling generate once per prompt."""

CHECK = "generate_batch returns one str per prompt from a single generate call"
MESSAGE = "generate was called 3 times for 3 prompts"


def generate_batch(model, tokenizer, prompts, **kwargs):
    return [generate_text(model, tokenizer, prompt, **kwargs) for prompt in prompts]
