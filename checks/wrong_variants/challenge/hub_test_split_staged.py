"""Mistake: shares every split, the grader's hidden test tickets too."""

import tempfile
from pathlib import Path

CHECK = "DATA_REPO_DIR is a data set repository that loads with load_dataset: train and validation only"
MESSAGE = "the test split is staged"

DATA_REPO_DIR = Path(tempfile.mkdtemp(prefix="hub-data-")) / "dataset"
for _split, _rows in load_splits(("train", "validation", "test")).items():
    (DATA_REPO_DIR / "data").mkdir(parents=True, exist_ok=True)
    _rows.to_parquet(DATA_REPO_DIR / DATA_FILE_PATTERN.format(split=_split))
dataset_card.save(DATA_REPO_DIR / "README.md")
