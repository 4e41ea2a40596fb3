"""Mistake: counts the down-projection A and forgets that B is trained too."""

CHECK = "lora_params counts A and B of one adapted layer"
MESSAGE = "That counts A only"


def lora_params(r, in_features, out_features):
    return r * in_features
