"""Mistake: counts the words of the text instead of the tokenizer's tokens."""

CHECK = "n_tokens is the number of tokens SmolLM2's tokenizer makes of TEXT_TO_COUNT"
MESSAGE = "That is the number of words"

n_tokens = len(TEXT_TO_COUNT.split())
