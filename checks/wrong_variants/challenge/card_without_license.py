"""Mistake: a model card without a licence: nobody may legally reuse the adapter."""

import tempfile
from pathlib import Path

CHECK = "STAGING_DIR holds the adapter and a model card (base model, data, metrics, licence, intended use)"
MESSAGE = "the card has no license"

_card = adapter_model_card(json.loads(RESULTS_PATH.read_text()), repo_id=HUB_REPO_ID, n_train=TRAIN_SIZE)
_card.data.license = None
STAGING_DIR = stage_repository(ADAPTER_DIR, _card, Path(tempfile.mkdtemp(prefix="hub-")) / "repo")
