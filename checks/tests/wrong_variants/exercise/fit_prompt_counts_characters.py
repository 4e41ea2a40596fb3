"""Mistake: the budget is counted in characters, not tokens, so the "fitted" prompt is far too long."""

CHECK = "fit_prompt keeps the end of a long prompt, within the context window"
MESSAGE = "generation would run past the context window"


def fit_prompt(tokenizer, text, max_new_tokens, context_window):
    if max_new_tokens >= context_window:
        raise ValueError("max_new_tokens must be smaller than context_window")
    budget = context_window - max_new_tokens
    return text if len(text) <= budget * 4 else text[-budget * 4:]
