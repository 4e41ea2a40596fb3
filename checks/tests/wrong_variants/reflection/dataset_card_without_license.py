"""Mistake: a data set card without a licence: nobody may legally reuse the tickets."""

import tempfile
from pathlib import Path

CHECK = "DATA_REPO_DIR is a data set repository: train and validation tickets and a card with a licence"
MESSAGE = "the data set card has no license"

dataset_card = DatasetCard.from_template(DatasetCardData(pretty_name="Support tickets"))
DATA_REPO_DIR = Path(tempfile.mkdtemp(prefix="hub-data-")) / "dataset"
stage_tickets(DATA_REPO_DIR)
dataset_card.save(DATA_REPO_DIR / "README.md")
