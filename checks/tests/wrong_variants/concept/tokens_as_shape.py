"""Mistake: keeps the tensor's shape (a torch.Size) instead of the number of tokens."""

CHECK = "n_tokens is the number of tokens SmolLM2's tokenizer makes of TEXT_TO_COUNT"
MESSAGE = "n_tokens should be an int, got Size"

n_tokens = tokenizer(TEXT_TO_COUNT, return_tensors="pt")["input_ids"].shape
