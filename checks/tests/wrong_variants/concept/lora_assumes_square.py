"""Mistake: assumes every layer is square (out = in), which grouped-query attention's v_proj is not."""

CHECK = "lora_params works for layers that are not square, such as v_proj"
MESSAGE = "as if the layer were square"


def lora_params(r, in_features, out_features):
    return 2 * r * in_features
