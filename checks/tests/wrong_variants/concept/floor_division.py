"""Mistake: integer division drops the half byte of an odd number of 4-bit weights."""

CHECK = "weight_bytes counts half a byte for each 4-bit weight"
MESSAGE = "at 4 bits each weight takes half a byte"


def weight_bytes(n_params, bits):
    return n_params * bits // 8
