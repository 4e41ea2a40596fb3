"""The exercise grader's test model: Tasks 2 and 3's checks can only fail on the learner's code, never on rounding."""

from __future__ import annotations

import sys

import pytest
import torch

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from grader import load_part

MIN_GAP = 0.01
"""Smallest allowed gap between the best and second-best next-token score on a compared greedy path. fp32 rounding
moves SmolLM2-sized scores (about 15) by about 1e-5 between a batched and a single-prompt forward pass."""


def _grader_module():
    load_part("exercise")
    return sys.modules["workshop_autograders.exercise"]


def _greedy_gaps(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[float]:
    """Top-1 minus top-2 score at every greedy step of every prompt, each prompt alone."""
    gaps = []
    for prompt in prompts:
        inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True)
        for scores in out.scores:
            top = scores[0].float().topk(2).values
            gaps.append(float(top[0] - top[1]))
    return gaps


@pytest.mark.slow
def test_the_greedy_paths_the_checks_compare_are_far_from_a_tie():
    grader = _grader_module()
    model, tokenizer = grader.random_llama()
    gaps = _greedy_gaps(model, tokenizer, [grader.PROMPT], 6) + _greedy_gaps(model, tokenizer, list(grader.BATCH), 10)
    assert len(gaps) == 6 + 3 * 10
    assert min(gaps) > MIN_GAP, sorted(gaps)[:3]


@pytest.mark.slow
def test_the_test_model_batches_like_single_prompts_and_samples_differently_per_seed():
    grader = _grader_module()
    model, tokenizer = grader.random_llama()
    assert sum(p.numel() for p in model.parameters()) < 10_000_000  # SmolLM2: 135 M
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    batch = grader.BATCH
    inputs = tokenizer(list(batch), padding=True, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=10, do_sample=False)
    batched = tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert batched == [grader.reference_text(prompt, 10) for prompt in batch]
    story = tokenizer(grader.STORY, return_tensors="pt").to(model.device)
    samples = set()
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        with torch.inference_mode():
            ids = model.generate(**story, max_new_tokens=6, do_sample=True, temperature=1.0)
        samples.add(tokenizer.decode(ids[0, story["input_ids"].shape[1]:]))
    assert len(samples) == 3
