"""Mistake: a model card without a licence: nobody may legally reuse the adapter."""

import tempfile
from pathlib import Path

CHECK = "MODEL_REPO_DIR is a model repository: the adapter and a card with base model, licence, data and result"
MESSAGE = "the card has no license"

card = ModelCard.from_template(
    ModelCardData(base_model=CHAT_MODEL_ID, library_name="peft", datasets=[HUB_DATASET_ID]),
    direct_use="Support message -> JSON record (teaching).", results=f"Validation exact match: {exact_match:.0%}.")
MODEL_REPO_DIR = Path(tempfile.mkdtemp(prefix="hub-")) / "model"
stage_adapter(repo_dir=MODEL_REPO_DIR)
card.save(MODEL_REPO_DIR / "README.md")
