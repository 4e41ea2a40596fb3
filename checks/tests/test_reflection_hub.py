"""helpers.challenge.hub (05 · Reflection, "Task: share on the Hub"): staging the two repositories offline, and
whether an upload can be attempted, decided in seconds, in one sentence; the Reflection's Hub checks' own tools."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time

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


@pytest.fixture
def hub_endpoint(monkeypatch):
    """``serve(behaviour) -> url``: a local stand-in for the Hub ("ok", "refuse" the token, "silent", "closed")."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    servers: list = []

    def serve(behaviour: str) -> str:
        if behaviour in ("silent", "closed"):
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            port = listener.getsockname()[1]
            if behaviour == "silent":
                listener.listen(8)  # accepts connections (the kernel does), never answers
                servers.append(listener)
            else:
                listener.close()  # nothing listens on this port
        else:
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    code = 200 if behaviour == "ok" else 401
                    body = (b'{"name": "learner", "orgs": [{"name": "workshop-org"}]}' if code == 200
                            else b'{"error": "Invalid credentials"}')
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args):
                    pass

            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            port = server.server_address[1]
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setattr(constants, "ENDPOINT", url)
        return url

    yield serve
    for server in servers:
        if isinstance(server, socket.socket):
            server.close()
        else:
            server.shutdown()


@pytest.mark.parametrize("given", [True, False])
def test_online_with_a_token_the_hub_answering_an_upload_can_be_attempted(monkeypatch, hub_endpoint, given):
    import huggingface_hub

    hub_endpoint("ok")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None if given else "hf_saved")
    assert hp.upload_status(token="hf_given" if given else None) == (True, "")


def test_a_refused_token_says_log_in_again(hub_endpoint):
    hub_endpoint("refuse")
    can, reason = hp.upload_status(token="hf_wrong")
    assert can is False and "refused the token" in reason and "hf auth login" in reason


@pytest.mark.parametrize("behaviour", ["closed", "silent"])
def test_an_unreachable_hub_gives_one_sentence_within_seconds(hub_endpoint, behaviour):
    url = hub_endpoint(behaviour)
    started = time.monotonic()
    can, reason = hp.upload_status(token="hf_anything", timeout=2)
    assert can is False and time.monotonic() - started < 2 + 3
    assert reason.startswith(f"the Hub at {url} cannot be reached within 2 s (")
    assert ("ConnectError" if behaviour == "closed" else "Timeout") in reason and "\n" not in reason


def test_the_staged_data_layout_is_the_one_load_dataset_reads(tmp_path):
    """A folder with data/<split>-00000-of-00001.parquet loads as those splits (as push_to_hub lays them out)."""
    from datasets import Dataset, load_dataset

    for split, n in (("train", 3), ("validation", 2)):
        target = tmp_path / hp.DATA_FILE_PATTERN.format(split=split)
        target.parent.mkdir(parents=True, exist_ok=True)
        Dataset.from_list([{"message": f"m{i}", "intent": "refund"} for i in range(n)]).to_parquet(target)
    loaded = load_dataset(str(tmp_path))
    assert {split: rows.num_rows for split, rows in loaded.items()} == {"train": 3, "validation": 2}


def test_repositories_outside_the_token_namespace_name_the_user_to_write(hub_endpoint):
    hub_endpoint("ok")
    assert hp.upload_status("learner/model", "workshop-org/data", token="hf_ok") == (True, "")
    can, reason = hp.upload_status("your-user-name/model", "learner/data", token="hf_ok")
    assert can is False and "your-user-name/model" in reason and "HUB_USER = 'learner'" in reason
    assert "learner/data" not in reason


def test_stage_adapter_copies_the_two_files_and_nothing_else(tmp_path, capsys):
    source, target = tmp_path / "adapter", tmp_path / "hub" / "model"
    source.mkdir()
    for name in (*hp.ADAPTER_FILES, "README.md"):
        (source / name).write_text(name)
    assert hp.stage_adapter(source, target) is True
    assert sorted(p.name for p in target.iterdir()) == sorted(hp.ADAPTER_FILES)
    assert (target / "adapter_config.json").read_text() == "adapter_config.json"
    assert capsys.readouterr().out.startswith("Staged the adapter")


def test_without_a_saved_adapter_one_line_says_to_finish_the_challenge(tmp_path, capsys):
    target = tmp_path / "model"
    target.mkdir()
    (target / "adapter_model.safetensors").write_text("stale")  # an earlier staging: must not be shared
    assert hp.stage_adapter(tmp_path / "missing", target) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "finish 04 · LoRA challenge" in out
    assert not (target / "adapter_model.safetensors").exists()


def test_stage_tickets_writes_the_shared_splits_where_push_to_hub_puts_them(tmp_path):
    from datasets import load_dataset

    stale = tmp_path / hp.DATA_FILE_PATTERN.format(split="test")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")  # a test split staged earlier must go
    tickets = hp.stage_tickets(tmp_path)
    assert set(tickets) == set(hp.SHARED_SPLITS) and not stale.exists()
    loaded = load_dataset(str(tmp_path))
    assert {s: r.num_rows for s, r in loaded.items()} == {s: r.num_rows for s, r in tickets.items()}


def _reflection():
    from checks.parts import reflection

    return reflection


def test_the_card_checks_read_a_section_only_when_it_is_filled():
    from huggingface_hub import ModelCard, ModelCardData

    reflection = _reflection()
    card = ModelCard.from_template(ModelCardData(license="apache-2.0"), results="Exact match: 70%.")
    assert reflection._section(card.text, "results") == "Exact match: 70%."
    assert not reflection._filled(reflection._section(card.text, "direct use"))  # "[More Information Needed]"
    assert reflection._section(card.text, "no such heading") is None


def test_the_stand_in_hub_records_the_calls_and_restores_the_real_ones():
    import datasets
    import huggingface_hub
    from huggingface_hub import DatasetCard, HfApi

    reflection = _reflection()
    real = (HfApi.create_repo, HfApi.upload_folder, datasets.DatasetDict.push_to_hub, huggingface_hub.create_repo)
    calls = []
    namespace = {"create_repo": huggingface_hub.create_repo}
    with reflection._stand_in_hub(calls, namespace):
        assert HfApi().create_repo("u/m", exist_ok=True) == "https://huggingface.co/u/m"
        namespace["create_repo"]("u/m2")
        HfApi().upload_folder(repo_id="u/m", folder_path="x")
        datasets.DatasetDict({"train": datasets.Dataset.from_list([{"a": 1}])}).push_to_hub("u/d")
        DatasetCard("---\nlicense: mit\n---\n").push_to_hub("u/d")
    assert [c[0] for c in calls] == ["create_repo", "create_repo", "upload_folder", "push_data", "push_card"]
    assert (HfApi.create_repo, HfApi.upload_folder, datasets.DatasetDict.push_to_hub,
            huggingface_hub.create_repo) == real
    assert namespace["create_repo"] == huggingface_hub.create_repo


@pytest.fixture
def staged_model(tmp_path):
    """``(ns, save)``: a staged model repository with a small stand-in adapter, ``results.json`` saying 70 %, and
    ``save(card)`` writing a card as the notebook does; ``ns`` is what the artifact check reads."""
    import torch
    from safetensors.torch import save_file

    from helpers.challenge.results import update_results
    from helpers.models import CHAT_MODEL_ID

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": CHAT_MODEL_ID}))
    save_file({"base_model.model.layers.0.q_proj.lora_A.weight": torch.zeros(2, 2)},
              str(folder / "adapter_model.safetensors"))
    results = tmp_path / "results.json"
    update_results({"metrics": {"lora": {"exact_match": 0.7}}}, results)
    ns = {"MODEL_REPO_DIR": folder, "HUB_DATASET_ID": "me/tickets", "CHALLENGE_RESULTS": results}

    def save(card):
        card.save(folder / "README.md")
        ns["card"] = card
        return ns

    return save


def _card(results="Exact match: 70%.", eval_results=None, **data):
    from huggingface_hub import ModelCard, ModelCardData

    from helpers.models import CHAT_MODEL_ID

    fields = {"base_model": CHAT_MODEL_ID, "library_name": "peft", "license": "apache-2.0", "datasets": ["me/tickets"],
              **data}
    return ModelCard.from_template(ModelCardData(eval_results=eval_results, **fields), direct_use="Tickets to JSON.",
                                   results=results)


def test_the_model_check_passes_the_measured_number_in_either_form(staged_model):
    from huggingface_hub import EvalResult

    reflection = _reflection()
    reflection._model_repo(staged_model(_card()))
    reflection._model_repo(staged_model(_card("Exact match: 70.0 %.")))
    as_eval = EvalResult(task_type="text-generation", dataset_type="me/tickets", dataset_name="tickets",
                         metric_type="exact_match", metric_value=0.7)
    reflection._model_repo(staged_model(_card(None, eval_results=[as_eval], model_name="ticket-extractor")))


@pytest.mark.parametrize("card, message", [
    (dict(results="Exact match: 0.7."), "states no exact match"),
    (dict(results="Exact match: 72%."), "states 72.0%"),
    (dict(results="Exact match: nan%."), "states no exact match"),
    (dict(base_model="gpt2", datasets=None), "datasets is None"),
    (dict(base_model="gpt2", library_name="transformers"), "library_name is 'transformers'"),
])
def test_the_model_check_names_every_missing_piece(staged_model, card, message):
    from checks.grader import CheckFailed

    with pytest.raises(CheckFailed) as failed:
        _reflection()._model_repo(staged_model(_card(**card)))
    assert message in str(failed.value)
    if "base_model" in card:
        assert "base_model is 'gpt2'" in str(failed.value)
