"""Mistake: the card's result is typed (a hoped-for number), not the exact match the challenge measured."""

import tempfile
from pathlib import Path

CHECK = "MODEL_REPO_DIR is a model repository: the adapter and a card with base model, licence, data and result"
MESSAGE = "write the measured number"

card = ModelCard.from_template(
    ModelCardData(base_model=CHAT_MODEL_ID, library_name="peft", license=LICENSE, datasets=[HUB_DATASET_ID]),
    direct_use="Support message -> JSON record (teaching).", results="Validation exact match: 95%.")
MODEL_REPO_DIR = Path(tempfile.mkdtemp(prefix="hub-")) / "model"
stage_adapter(repo_dir=MODEL_REPO_DIR)
card.save(MODEL_REPO_DIR / "README.md")
