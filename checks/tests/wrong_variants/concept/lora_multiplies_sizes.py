"""Mistake: multiplies rank, in and out, as if A and B were one r x in x out block."""

CHECK = "lora_params counts A and B of one adapted layer"
MESSAGE = "A and B are added, not multiplied"


def lora_params(r, in_features, out_features):
    return r * in_features * out_features
