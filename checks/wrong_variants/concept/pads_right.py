"""Mistake: keeps the library default, right padding, for batched generation with a decoder-only model."""

CHECK = "generation_padding_side is the side a decoder-only model pads for batched generation"
MESSAGE = "right padding puts pad tokens after a short prompt"

generation_padding_side = "right"
