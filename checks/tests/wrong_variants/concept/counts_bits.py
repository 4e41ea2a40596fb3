"""Mistake: returns the number of bits, forgetting that a byte holds 8 of them."""

CHECK = "weight_bytes gives the bytes of 32-, 16- and 8-bit weights"
MESSAGE = "That is the number of bits, not bytes"


def weight_bytes(n_params, bits):
    return n_params * bits
