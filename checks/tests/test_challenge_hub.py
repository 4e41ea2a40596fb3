"""helpers.challenge.hub: whether an upload can be attempted, decided without touching the network."""

from __future__ import annotations

import pytest

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from helpers.challenge import hub as hp


def test_offline_mode_says_nothing_can_be_uploaded(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    can, reason = hp.upload_status(token="hf_anything")
    assert can is False and "offline mode" in reason and "hf auth login" in reason


def test_without_a_token_nothing_can_be_uploaded(monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    can, reason = hp.upload_status()
    assert can is False and "no Hugging Face token" in reason


@pytest.mark.parametrize("given", [True, False])
def test_online_with_a_token_an_upload_can_be_attempted(monkeypatch, given):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None if given else "hf_saved")
    assert hp.upload_status(token="hf_given" if given else None) == (True, "")


def test_the_staged_data_layout_is_the_one_load_dataset_reads(tmp_path):
    """A folder with data/<split>-00000-of-00001.parquet loads as those splits (as push_to_hub lays them out)."""
    from datasets import Dataset, load_dataset

    for split, n in (("train", 3), ("validation", 2)):
        target = tmp_path / hp.DATA_FILE_PATTERN.format(split=split)
        target.parent.mkdir(parents=True, exist_ok=True)
        Dataset.from_list([{"message": f"m{i}", "intent": "refund"} for i in range(n)]).to_parquet(target)
    loaded = load_dataset(str(tmp_path))
    assert {split: rows.num_rows for split, rows in loaded.items()} == {"train": 3, "validation": 2}
