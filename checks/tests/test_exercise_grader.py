"""The exercise grader's test model: Tasks 2 and 3's checks can only fail on the learner's code, never on rounding."""

from __future__ import annotations

import pytest
import torch

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from checks.grader import load_part

MIN_GAP = 0.01
"""Smallest allowed gap between the best and second-best next-token score on a compared greedy path. fp32 rounding
moves SmolLM2-sized scores (about 15) by about 1e-5 between a batched and a single-prompt forward pass."""


def _grader_module():
    from checks.parts import exercise

    return exercise


def _grader_models():
    from checks.parts import exercise_models

    return exercise_models


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
    model, tokenizer = _grader_models().random_llama()
    gaps = _greedy_gaps(model, tokenizer, [grader.PROMPT], 6) + _greedy_gaps(model, tokenizer, list(grader.BATCH), 10)
    assert len(gaps) == 6 + 3 * 10
    assert min(gaps) > MIN_GAP, sorted(gaps)[:3]


@pytest.mark.slow
def test_the_test_model_batches_like_single_prompts_and_samples_differently_per_seed():
    grader, models = _grader_module(), _grader_models()
    model, tokenizer = models.random_llama()
    assert sum(p.numel() for p in model.parameters()) < 10_000_000  # SmolLM2: 135 M
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    batch = grader.BATCH
    inputs = tokenizer(list(batch), padding=True, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=10, do_sample=False)
    batched = tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert batched == [models.reference_text(prompt, 10) for prompt in batch]
    story = tokenizer(grader.STORY, return_tensors="pt").to(model.device)
    samples = set()
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        with torch.inference_mode():
            ids = model.generate(**story, max_new_tokens=6, do_sample=True, temperature=1.0)
        samples.add(tokenizer.decode(ids[0, story["input_ids"].shape[1]:]))
    assert len(samples) == 3


def _solution_namespace(*functions: str) -> dict:
    """The solution notebook's set-up cells and the cells defining ``functions``, run in a fresh namespace."""
    import nbformat

    from checks.tests.conftest import part_notebook

    nb = nbformat.read(part_notebook("solutions", "exercise"), as_version=4)
    ns: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "workshop-launch" in cell.metadata.get("tags", []):
            continue
        source = cell.source
        if ("helpers.setup(" in source or "CHAT_MODEL_ID = " in source
                or any(f"def {name}(" in source for name in functions)):
            exec(compile(source, "<solution cell>", "exec"), ns)
    missing = [name for name in functions if name not in ns]
    assert not missing, f"no solution cell defines {missing}"
    return ns


@pytest.mark.slow
def test_a_learner_who_catches_up_on_task_1_is_graded_normally_on_tasks_2_to_5():
    """Stuck on Task 1: its load_generator still raises, the catch-up gives (model, tokenizer), the later tasks pass."""
    from checks.grader import catch_up, run_checks
    from checks.grader.registry import CAUGHT_UP

    grader = _grader_module()
    ns = _solution_namespace("generate_text", "generate_batch", "chat", "make_quantization_config", "load_quantized")

    def load_generator(model_name):
        raise NotImplementedError("Task 1: load_generator: write your code here, see the instructions above.")

    ns["load_generator"] = load_generator
    try:
        ns["model"], ns["tokenizer"] = catch_up("exercise", "Task 1")
        results = run_checks(load_part("exercise"), ns)
    finally:
        CAUGHT_UP.discard(("exercise", grader.T1))
    task1 = [r for r in results if r.task == grader.T1]
    assert task1 and all(r.caught_up and not r.passed for r in task1)
    later = [r for r in results if not r.optional and r.task != grader.T1]
    assert {r.task for r in later} == {grader.T2, grader.T3, grader.T4, grader.T5}
    assert all(r.passed for r in later), [(r.name, r.message) for r in later if not r.passed]
    model, tokenizer = ns["model"], ns["tokenizer"]
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None and not model.training
    assert isinstance(ns["generate_text"](model, tokenizer, grader.PROMPT, max_new_tokens=3), str)


def test_the_optional_tasks_are_the_bonus_ones():
    part = load_part("exercise")
    assert {c.task for c in part.checks if c.optional} == {"Bonus A: fit_prompt", "Bonus B: generation presets"}
    assert set(part.catch_ups) == {"Task 1: load_generator"}
    assert all(c.more_hint for c in part.checks if c.task.startswith(("Task 1", "Task 2", "Task 5")))
