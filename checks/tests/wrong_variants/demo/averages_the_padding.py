"""Mistake: a plain mean over the token dimension, so the padding vectors are averaged in too."""

CHECK = "mean_pool averages only the real tokens (padding ignored)"
MESSAGE = "differ from the average of the real tokens"


def mean_pool(last_hidden_state, attention_mask):
    return last_hidden_state.mean(dim=1)
