"""Mistake: no ValueError when max_new_tokens >= context_window (the slice [-0:] even keeps everything)."""

CHECK = "fit_prompt refuses a context window that leaves no room for the prompt"
MESSAGE = "instead of raising ValueError"


def fit_prompt(tokenizer, text, max_new_tokens, context_window):
    budget = context_window - max_new_tokens
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) <= budget:
        return text
    return tokenizer.decode(ids[-budget:])
