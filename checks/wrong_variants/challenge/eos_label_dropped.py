"""Mistake: masks the end-of-turn token too, so the model never learns to stop after the JSON."""

CHECK = "the labels mask the prompt with -100 and keep the answer and its <|im_end|>"
MESSAGE = "the last label (<|im_end|>) is -100"

_solution_tokenize_ticket = tokenize_ticket


def tokenize_ticket(row):
    example = _solution_tokenize_ticket(row)
    return {**example, "labels": [*example["labels"][:-1], -100]}
