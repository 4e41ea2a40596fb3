"""Mistake: divides where it should not and returns a float count."""

CHECK = "lora_params counts A and B of one adapted layer"
MESSAGE = "a count of numbers is a plain int"


def lora_params(r, in_features, out_features):
    return r * (in_features + out_features) / 1
