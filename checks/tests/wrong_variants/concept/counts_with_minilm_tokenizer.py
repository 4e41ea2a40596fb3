"""Mistake: counts with the embedding model's WordPiece tokenizer instead of SmolLM2's."""

CHECK = "n_tokens is the number of tokens SmolLM2's tokenizer makes of TEXT_TO_COUNT"
MESSAGE = "MiniLM's WordPiece tokenizer"

n_tokens = len(embed_tokenizer(TEXT_TO_COUNT)["input_ids"])
