"""Mistake: sums over the last (hidden) dimension instead of the tokens: one number per token, not a vector."""

CHECK = "mean_pool returns one float vector per sentence"
MESSAGE = "expected shape (3, 8), got (3, 5)"


def mean_pool(last_hidden_state, attention_mask):
    mask = attention_mask.unsqueeze(-1).float()
    return (last_hidden_state * mask).sum(dim=-1) / mask.sum(dim=1)
