"""Mistake: converts to MiB inside the function instead of returning bytes."""

CHECK = "weight_bytes gives the bytes of 32-, 16- and 8-bit weights"
MESSAGE = "That is MiB"


def weight_bytes(n_params, bits):
    return n_params * bits / 8 / 2**20
