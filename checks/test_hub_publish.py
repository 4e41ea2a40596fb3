"""helpers.hub_publish: the model card, the staged repository and an upload that never crashes."""

from __future__ import annotations

from typing import ClassVar

import pytest

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from helpers import hub_publish as hp

RESULTS = {
    "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "epochs": 3,
    "trainable_params": {"lora": 1_953_792},
    "metrics": {"base": {"exact_match": 0.0, "valid_json": 0.02},
                "lora": {"exact_match": 0.7333, "valid_json": 1.0}},
}


def _adapter(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    return folder


def test_model_card_has_the_metadata_the_hub_indexes():
    from huggingface_hub import ModelCard

    card = hp.adapter_model_card(RESULTS, repo_id="me/ticket-extractor", n_train=100)
    parsed = ModelCard(str(card))
    data = parsed.data.to_dict()
    assert data["base_model"] == RESULTS["base_model"] and data["library_name"] == "peft"
    assert data["license"] == "apache-2.0" and "lora" in data["tags"]
    (index,) = data["model-index"]
    values = {m["type"]: m["value"] for m in index["results"][0]["metrics"]}
    assert values == {"exact_match": 0.7333, "valid_json": 1.0}
    text = parsed.text
    assert "## Intended use" in text and "100 synthetic tickets" in text and "3 epochs" in text
    assert "| LoRA | 73% | 100% |" in text and "| base model | 0% | 2% |" in text
    assert 'PeftModel.from_pretrained(base, "me/ticket-extractor")' in text and "1,953,792" in text


@pytest.mark.parametrize("repo_id", ["no-slash", "a/b/c", "/name", ""])
def test_model_card_rejects_a_bad_repo_id(repo_id):
    with pytest.raises(ValueError, match="your-user-name/model-name"):
        hp.adapter_model_card(RESULTS, repo_id=repo_id, n_train=100)


def test_model_card_needs_the_base_model():
    with pytest.raises(ValueError, match="base_model"):
        hp.adapter_model_card({"metrics": {}}, repo_id="me/x", n_train=100)


def test_model_card_without_metrics_says_not_measured():
    card = hp.adapter_model_card({"base_model": "HuggingFaceTB/SmolLM2-135M-Instruct"}, repo_id="me/x", n_train=5)
    assert "model-index" not in card.data.to_dict() and "trainable parameters" in str(card)


def test_stage_repository_copies_the_adapter_and_replaces_old_files(tmp_path):
    adapter = _adapter(tmp_path / "adapter")
    target = tmp_path / "staged"
    target.mkdir()
    (target / "stale.bin").write_bytes(b"old")
    folder = hp.stage_repository(adapter, "# card", target)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "adapter_config.json", "adapter_model.safetensors"]
    assert (folder / "adapter_model.safetensors").read_bytes() == b"weights"
    assert (folder / "README.md").read_text() == "# card"


def test_stage_repository_without_an_adapter_says_save_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        hp.stage_repository(tmp_path, "# card", tmp_path / "staged")


def test_push_offline_uploads_nothing_and_says_so(tmp_path, monkeypatch):
    from huggingface_hub import constants

    folder = hp.stage_repository(_adapter(tmp_path / "adapter"), "# card", tmp_path / "staged")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    outcome = hp.push_staged(folder, "me/x")
    assert outcome.uploaded is False and outcome.url is None
    assert "nothing was uploaded" in outcome.message and "hf auth login" in outcome.message


def test_push_without_a_token_uploads_nothing(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    folder = hp.stage_repository(_adapter(tmp_path / "adapter"), "# card", tmp_path / "staged")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    outcome = hp.push_staged(folder, "me/x")
    assert not outcome.uploaded and "No Hugging Face token" in outcome.message


class _FakeApi:
    calls: ClassVar[list] = []
    fail: ClassVar[Exception | None] = None

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, private, exist_ok):
        if self.fail:
            raise self.fail
        self.calls.append(("create_repo", repo_id, private, exist_ok))
        return f"https://hub.example/{repo_id}"

    def upload_folder(self, repo_id, folder_path, commit_message):
        self.calls.append(("upload_folder", repo_id, str(folder_path)))


@pytest.mark.parametrize("fail", [None, OSError("connection refused")])
def test_push_with_network_and_token_uploads_or_reports_the_failure(tmp_path, monkeypatch, fail):
    import huggingface_hub
    from huggingface_hub import constants

    folder = hp.stage_repository(_adapter(tmp_path / "adapter"), "# card", tmp_path / "staged")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "HfApi", _FakeApi)
    monkeypatch.setattr(_FakeApi, "calls", [])
    monkeypatch.setattr(_FakeApi, "fail", fail)
    outcome = hp.push_staged(folder, "me/x", token="hf_test")
    if fail is None:
        assert outcome.uploaded and outcome.url == "https://hub.example/me/x"
        assert _FakeApi.calls == [("create_repo", "me/x", True, True), ("upload_folder", "me/x", str(folder))]
    else:
        assert not outcome.uploaded and "connection refused" in outcome.message and "nothing was published" in \
            outcome.message


def test_push_needs_a_staged_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="stage_repository"):
        hp.push_staged(tmp_path, "me/x")
