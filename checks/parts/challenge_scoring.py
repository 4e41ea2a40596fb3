"""The challenge grader's own models and scores: what its checks compare the learner's work with.

The checks never trust a score the notebook reports: they load SmolLM2 themselves (:func:`fresh_base`, on the CPU in
fp32; :func:`grader_4bit_base` for QLoRA), apply the learner's saved adapter and score the hidden test split with the
reference solution's evaluation (:func:`score_model`, :func:`adapter_scores`). The base model's test score is cached
under :data:`helpers.paths.CACHE_DIR` (:func:`base_test_score`): it depends only on what :func:`base_cache_key`
hashes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from checks.reference.evaluation import evaluate_answers
from helpers.challenge.task import MAX_NEW_TOKENS
from helpers.models import CHAT_MODEL_ID
from helpers.paths import BASE_SCORE_CACHE  # recomputed whenever its key differs (test_challenge_grader.py compares)


@functools.cache
def grader_tokenizer():
    """SmolLM2's tokenizer (the grader's own copy)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(CHAT_MODEL_ID)


@functools.cache
def raw_splits():
    """The ticket splits as raw rows (``message`` and the four fields), the hidden test split included."""
    from helpers.challenge.task import load_splits

    return load_splits()


def fresh_base(dtype: torch.dtype = torch.float32):
    """A new SmolLM2 from the offline cache, on the CPU, in ``dtype`` (never a model the notebook touched)."""
    from transformers import AutoModelForCausalLM

    from helpers.env import progress_bars_off

    with progress_bars_off():
        return AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=dtype)


@functools.cache
def meta_model():
    """SmolLM2's architecture on the meta device: module names and parameter counts, no memory."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(CHAT_MODEL_ID)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def grader_4bit_base():
    """SmolLM2 in 4-bit NF4 with double quantization, built by the grader's reference (not the learner's config)."""
    from checks.reference.models import load_base_model

    return load_base_model(CHAT_MODEL_ID, mode="qlora")


def adapter_signature(adapter_dir: Path) -> tuple[str, str]:
    """``(folder, digest of its adapter files)``: the same weights saved in two folders are scored once.

    Raises:
        OSError: the folder lacks ``adapter_config.json`` or ``adapter_model.safetensors``.
    """
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_dir / name).read_bytes())
    return str(adapter_dir.resolve()), digest.hexdigest()


def score_model(model, split: str = "test", *, limit: int | None = None) -> dict[str, Any]:
    """The reference's scores of ``model``'s greedy answers on ``split`` (its first ``limit`` tickets, or all).

    Returns:
        :func:`helpers.challenge.task.score`'s dict (``exact_match``, ``valid_json``, ``field_accuracy``).
    """
    tickets = raw_splits()[split]
    if limit is not None:
        tickets = tickets.select(range(min(limit, len(tickets))))
    return evaluate_answers(model, grader_tokenizer(), tickets, max_new_tokens=MAX_NEW_TOKENS)


def base_cache_key() -> str:
    """What the base model's test score depends on: model files, test tickets, generation settings, precision."""
    from helpers.challenge.task import split_path
    from helpers.device import mixed_precision, pick_device
    from helpers.models import local_revision

    digest = hashlib.sha256()
    digest.update(f"{CHAT_MODEL_ID}@{local_revision(CHAT_MODEL_ID)}".encode())  # the snapshot names its files
    digest.update(split_path("test").read_bytes())
    precision = mixed_precision(pick_device())  # generation runs under bf16 autocast where it says "bf16"
    digest.update(f"{MAX_NEW_TOKENS}|{torch.__version__}|{precision}".encode())
    return digest.hexdigest()


def compute_base_test_score() -> float:
    """The base model's exact match on the 100 test tickets, computed now (about 15 s on a CPU)."""
    return score_model(fresh_base(), "test")["exact_match"]


def stored_base_scores() -> dict[str, float]:
    """``{key: exact_match}`` from :data:`BASE_SCORE_CACHE`; empty when it is missing or unreadable."""
    try:
        scores = json.loads(BASE_SCORE_CACHE.read_text()).get("scores", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {k: float(v) for k, v in scores.items() if isinstance(v, float | int)} if isinstance(scores, dict) else {}


@functools.cache
def base_test_score() -> float:
    """The base model's exact match on the test split, from :data:`BASE_SCORE_CACHE` when it has the key.

    The base model and the test tickets never change, so their generation (15 s with bf16
    autocast, about 50 s on an AVX2-only CPU) is not repeated at every grading. The file keeps
    one score per key, so CPUs with and without bf16 instructions (whose greedy answers may
    differ) each find theirs; any change of model files, tickets, settings or torch version
    changes the key and the score is computed again (and added, if the file is writable).
    """
    key = base_cache_key()
    scores = stored_base_scores()
    if key in scores:
        return scores[key]
    score = compute_base_test_score()
    try:
        BASE_SCORE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        BASE_SCORE_CACHE.write_text(json.dumps({"scores": {**scores, key: score}}, indent=1) + "\n")
    except OSError:  # a read-only checkout still grades, only slower
        pass
    return score


_SCORES: dict[tuple[str, str], dict[str, Any]] = {}


def adapter_scores(signature: tuple[str, str], split: str = "test") -> dict[str, Any]:
    """The grader's own scores of the adapter at ``signature[0]`` on ``split`` (computed once per file content).

    Args:
        signature: :func:`adapter_signature` of the adapter folder.
        split: ``"test"`` (hidden from the notebook) or ``"validation"``.
    """
    from peft import PeftModel

    key = (signature[1], split)
    if key not in _SCORES:
        # merged into the fresh base: the same weights, without the adapters' extra matmuls at every token
        model = PeftModel.from_pretrained(fresh_base(), signature[0]).merge_and_unload()
        _SCORES[key] = score_model(model, split)
    return _SCORES[key]
