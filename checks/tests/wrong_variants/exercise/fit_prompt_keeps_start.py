"""Mistake: the tokenizer's default truncation keeps the start and drops the end, where the question is."""

CHECK = "fit_prompt keeps the end of a long prompt, within the context window"
MESSAGE = "the question at the end was dropped"


def fit_prompt(tokenizer, text, max_new_tokens, context_window):
    if max_new_tokens >= context_window:
        raise ValueError("max_new_tokens must be smaller than context_window")
    ids = tokenizer(text, add_special_tokens=False, truncation=True,
                    max_length=context_window - max_new_tokens)["input_ids"]
    return tokenizer.decode(ids)
