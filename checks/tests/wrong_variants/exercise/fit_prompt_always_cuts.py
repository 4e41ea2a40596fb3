"""Mistake: every prompt goes through the tokenizer and back with skip_special_tokens=True, even when it fits.

A chat-formatted prompt then loses its <|im_start|>/<|im_end|> markers and the model no longer sees a chat.
"""

CHECK = "fit_prompt leaves a prompt that fits unchanged"
MESSAGE = "but came back changed"


def fit_prompt(tokenizer, text, max_new_tokens, context_window):
    if max_new_tokens >= context_window:
        raise ValueError("max_new_tokens must be smaller than context_window")
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer.decode(ids[-(context_window - max_new_tokens):], skip_special_tokens=True)
