"""Mistake: zeroes the padding with an in-place multiplication, changing the caller's last_hidden_state."""

CHECK = "mean_pool leaves its inputs unchanged"
MESSAGE = "modified last_hidden_state in place"


def mean_pool(last_hidden_state, attention_mask):
    last_hidden_state *= attention_mask.unsqueeze(-1)
    return last_hidden_state.sum(dim=1) / attention_mask.sum(dim=1, keepdim=True)
