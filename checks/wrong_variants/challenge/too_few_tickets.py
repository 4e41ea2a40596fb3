"""Mistake: trains on 50 tickets to save time; the challenge asks for at least 100."""

CHECK = "build_dataset returns a DatasetDict with train (at least 100 tickets) and validation"
MESSAGE = "the train split has 50 examples"

TRAIN_SIZE = 50
