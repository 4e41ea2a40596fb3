"""helpers.challenge.hub: whether an upload can be attempted, decided in seconds, in one sentence."""

from __future__ import annotations

import http.server
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
                    body = b'{"name": "learner"}' if code == 200 else b'{"error": "Invalid credentials"}'
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
