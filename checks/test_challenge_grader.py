"""The LoRA challenge's grader inputs that are not learner work: the cached base score, 4-bit training."""

from __future__ import annotations

import json

import pytest
import torch

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from helpers import lora_training as lt
from helpers.grading import load_part


def _grader_module():
    import sys

    load_part("challenge")
    return sys.modules["workshop_autograders.challenge"]


@pytest.mark.slow
def test_the_committed_base_score_is_current_and_recomputes_to_the_same_value():
    """The grader reads the base model's test score from a committed file: prove it is not a typed number."""
    grader = _grader_module()
    stored = json.loads(grader.BASE_SCORE_CACHE.read_text())
    assert stored["key"] == grader._base_cache_key(), (
        "model files, test tickets or settings changed: delete checks/autograders/challenge_base_score.json "
        "and run `make grade` (or this test) to recompute it")
    assert stored["exact_match"] == pytest.approx(grader.compute_base_test_score(), abs=1e-9)
    assert stored["exact_match"] <= 0.05  # the task is new to the base model: that is why we fine-tune


@pytest.mark.slow
def test_qlora_keeps_learning_after_an_evaluation_on_a_bf16_cpu():
    """bitsandbytes repacks 4-bit weights for CPU inference at the first eval-mode call, and the repacked
    path has no backward. With repacking off (what lt.train does while training) an eval pass leaves the
    weights trainable and gradients reach the lowest adapted block."""
    from helpers.extraction_task import load_splits

    model = lt.prepare_for_training(lt.load_base_model(mode="qlora", device="cpu"), "qlora",
                                    gradient_checkpointing=False)
    assert lt.set_cpu_4bit_repacking(model, False) == 30 * 7  # every 4-bit linear layer of the 30 blocks
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(lt._default_model_path())
    rows = load_splits(("train",))["train"]
    batch = lt.data_collator(tokenizer)([lt.tokenize_example(rows[i], tokenizer) for i in range(2)])
    model.eval()
    with torch.no_grad():
        model(**batch)
    packed = [m for m in model.modules() if getattr(getattr(getattr(m, "weight", None), "quant_state", None),
                                                   "packing_format_for_cpu", False)]
    assert not packed, "an eval pass repacked 4-bit weights although repacking was off"
    model.train()
    model(**batch).loss.backward()
    lowest = min(lt.ADAPTED_LAYERS)
    grads = [p.grad for n, p in model.named_parameters() if f"layers.{lowest}." in n and "lora_A" in n]
    assert grads and all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    assert lt.set_cpu_4bit_repacking(model, True) == 30 * 7
