"""The LoRA challenge's grader inputs that are not learner work: the cached base score, 4-bit training."""

from __future__ import annotations

import pytest
import torch

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from checks.reference import data as ref_data
from checks.reference import models as ref_models
from checks.reference import recipe
from helpers.challenge import training as lt
from helpers.device import cpu_bf16_native
from helpers.models import CHAT_MODEL_ID


@pytest.mark.slow
def test_the_cached_base_score_is_computed_under_build_and_recomputes_to_the_same_value():
    """The grader caches the base model's test score under build/cache (never in the source tree): a computed value."""
    from checks.parts import challenge_scoring as scoring
    from helpers.paths import BUILD_DIR

    assert scoring.BASE_SCORE_CACHE.is_relative_to(BUILD_DIR)
    score = scoring.base_test_score()  # read from the cache, or computed now and cached
    assert scoring.stored_base_scores()[scoring.base_cache_key()] == score
    assert score == pytest.approx(scoring.compute_base_test_score(), abs=1e-9)
    assert score <= 0.05  # the task is new to the base model: that is why we fine-tune


def _grads_after_an_eval_pass(repacking_off: bool) -> dict[str, float]:
    """|gradient| of each LoRA B matrix of the lowest adapted block, after eval pass + training step."""
    from transformers import AutoTokenizer

    from helpers.challenge.task import load_splits

    model = ref_models.prepare_for_training(ref_models.load_base_model(mode="qlora", device="cpu"), "qlora",
                                            gradient_checkpointing=False)
    if repacking_off:
        assert lt.set_cpu_4bit_repacking(model, False) == 30 * 7  # every 4-bit linear layer of the 30 blocks
    tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID)
    rows = load_splits(("train",))["train"]
    batch = ref_data.data_collator(tokenizer)([ref_data.tokenize_example(rows[i], tokenizer) for i in range(2)])
    model.eval()
    with torch.no_grad():
        model(**batch)
    model.train()
    model(**batch).loss.backward()
    lowest = min(recipe.ADAPTED_LAYERS)
    return {name.split(".")[-4]: float(param.grad.abs().sum()) if param.grad is not None else 0.0
            for name, param in model.named_parameters() if f"layers.{lowest}." in name and "lora_B" in name}


@pytest.mark.slow
def test_qlora_keeps_learning_after_an_evaluation():
    """bitsandbytes 0.50 repacks 4-bit weights for CPU inference at a layer's first eval-mode call (on CPUs
    with AVX-512 BF16), and the repacked path has no backward. With repacking off, as the notebook does while
    training, every adapted projection of the lowest adapted block still gets a gradient."""
    grads = _grads_after_an_eval_pass(repacking_off=True)
    assert set(grads) == set(recipe.TARGET_MODULES)
    assert all(value > 0 and value == value for value in grads.values()), grads


@pytest.mark.slow
@pytest.mark.skipif(not cpu_bf16_native(capability="AVX512"),  # bitsandbytes reads the CPU flags, not torch
                    reason="bitsandbytes repacks only on CPUs with AVX-512 BF16")
def test_the_bitsandbytes_repacking_bug_is_still_there():
    """The reason for lt.set_cpu_4bit_repacking. If this fails, bitsandbytes fixed the bug and the
    workaround (and this test) can go."""
    grads = _grads_after_an_eval_pass(repacking_off=False)
    assert grads["q_proj"] == 0.0 and grads["up_proj"] == 0.0, grads
