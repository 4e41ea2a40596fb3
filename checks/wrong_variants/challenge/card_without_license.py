"""Mistake: a model card without a licence: nobody may legally reuse the adapter."""

import tempfile
from pathlib import Path

CHECK = "MODEL_REPO_DIR is a model repository: the adapter and a card with base model, licence, data and results"
MESSAGE = "the card has no license"

card = ModelCard(str(card))
card.data.license = None
MODEL_REPO_DIR = Path(tempfile.mkdtemp(prefix="hub-")) / "model"
reloaded.save_pretrained(MODEL_REPO_DIR)
card.save(MODEL_REPO_DIR / "README.md")
