"""Mistake: labels are a copy of input_ids, so the loss also trains on the system prompt and the message."""

CHECK = "the labels mask the prompt with -100 and keep the answer and its <|im_end|>"
MESSAGE = "the prompt tokens carry labels"

_solution_tokenize_ticket = tokenize_ticket


def tokenize_ticket(row):
    example = _solution_tokenize_ticket(row)
    return {**example, "labels": list(example["input_ids"])}
