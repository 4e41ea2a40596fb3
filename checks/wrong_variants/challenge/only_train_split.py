"""Mistake: build_dataset returns the training split only, so nothing is left to validate on."""

CHECK = "build_dataset returns a DatasetDict with train (at least 100 tickets) and validation"
MESSAGE = "it needs 'validation'"

def build_dataset():
    splits = load_splits(("train",))
    splits["train"] = splits["train"].select(range(TRAIN_SIZE))
    return splits.map(tokenize_ticket, remove_columns=splits["train"].column_names)
