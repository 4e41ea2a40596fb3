"""The exercise grader's own models: SmolLM2, a small random Llama, and the reference outputs the checks compare with.

Tasks 2 and 3 (``generate_text``, ``generate_batch``) are about what the code does with *a* causal LM, so their
checks run on :func:`random_llama`, a small Llama with random weights and SmolLM2's tokenizer, which writes a token in
about 2 ms; SmolLM2 (:func:`grader_model`) needs about 75 ms on a 2-core CPU (all 540 MB of its fp32 weights are read
for every token). The reference outputs (:func:`reference_text`, :func:`reference_chat`) come from plain ``generate``
calls of these models.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import torch


@functools.cache
def grader_tokenizer():
    """SmolLM2's tokenizer, padding on the left (shared by the grader's models)."""
    from transformers import AutoTokenizer

    from helpers.models import CHAT_MODEL_ID

    return AutoTokenizer.from_pretrained(CHAT_MODEL_ID, padding_side="left")


@functools.cache
def grader_model() -> tuple[Any, Any]:
    """The grader's SmolLM2 (device and dtype from ``helpers.device``) and a left-padding tokenizer."""
    from transformers import AutoModelForCausalLM

    from helpers.device import pick_device, pick_dtype
    from helpers.models import CHAT_MODEL_ID

    device = pick_device()
    model = AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=pick_dtype(device)).to(device).eval()
    return model, grader_tokenizer()


def _random_llama(tokenizer, *, hidden_size: int, layers: int, initializer_range: float, pad_token_id: int | None):
    """A ``LlamaForCausalLM`` with random weights (seed 0) over ``tokenizer``'s vocabulary, in eval mode."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=layers, num_attention_heads=max(2, hidden_size // 16),
                         num_key_value_heads=1, max_position_embeddings=2048, tie_word_embeddings=False,
                         initializer_range=initializer_range, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=pad_token_id)
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval()


@functools.cache
def random_llama() -> tuple[Any, Any]:
    """The model of Tasks 2 and 3's checks: a 2-block Llama (hidden size 64, 6.4 M parameters) with random weights.

    It shares SmolLM2's tokenizer and generation defaults, lives on ``helpers.device.pick_device()`` and stays in
    float32 on every device. The weights are drawn wide (std 0.4 instead of 0.02), so its next-token scores spread
    out (std about 3): the best and second-best token differ by far more than float rounding, so batched and
    single-prompt greedy results agree on any CPU (``checks/tests/test_exercise_grader.py`` measures the gap on the
    checks' prompts), and sampling at temperature 1 still varies from seed to seed.

    Returns:
        (model, tokenizer): the model in eval mode; :func:`grader_tokenizer`.
    """
    from transformers import GenerationConfig

    from helpers.device import pick_device
    from helpers.models import CHAT_MODEL_ID

    tokenizer = grader_tokenizer()
    model = _random_llama(tokenizer, hidden_size=64, layers=2, initializer_range=0.4,
                          pad_token_id=tokenizer.pad_token_id)
    model.generation_config = GenerationConfig.from_pretrained(CHAT_MODEL_ID)
    return model.to(pick_device()), tokenizer


def fresh_tokenizer():
    """The grader's tokenizer, reset in case a learner's function changed its settings."""
    tokenizer = grader_tokenizer()
    tokenizer.padding_side = "left"
    tokenizer.truncation_side = "right"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@functools.cache
def _reference_ids(prompt: str, max_new_tokens: int, num_beams: int = 1) -> tuple[int, ...]:
    model, tokenizer = random_llama()
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=num_beams)
    return tuple(out[0, inputs["input_ids"].shape[1]:].tolist())


def reference_text(prompt: str, max_new_tokens: int, num_beams: int = 1) -> str:
    """Greedy (or beam) continuation of ``prompt`` by :func:`random_llama`: the new text only."""
    _, tokenizer = random_llama()
    return tokenizer.decode(list(_reference_ids(prompt, max_new_tokens, num_beams)), skip_special_tokens=True)


def reference_chat(messages: Sequence[Mapping[str, str]], max_new_tokens: int,
                   add_generation_prompt: bool = True) -> str:
    """The grader's greedy reply (:func:`grader_model`) to the chat ``messages``: the new text only.

    Args:
        messages: ``{"role", "content"}`` dicts.
        max_new_tokens: generation budget.
        add_generation_prompt: open the assistant's turn (``False`` shows what a forgotten flag gives).
    """
    return _reference_chat(tuple((m["role"], m["content"]) for m in messages), max_new_tokens, add_generation_prompt)


@functools.cache
def _reference_chat(messages: tuple[tuple[str, str], ...], max_new_tokens: int, add_generation_prompt: bool) -> str:
    model, tokenizer = grader_model()
    inputs = tokenizer.apply_chat_template(
        [{"role": role, "content": content} for role, content in messages],
        add_generation_prompt=add_generation_prompt, return_dict=True, return_tensors="pt"
    ).to(model.device)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


@functools.cache
def no_pad_model_dir() -> str:
    """A tiny random Llama with SmolLM2's tokenizer minus its pad token (tests the pad-token fallback)."""
    from transformers import AutoTokenizer

    from helpers.models import CHAT_MODEL_ID

    folder = tempfile.mkdtemp(prefix="workshop-no-pad-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID)
    tokenizer.pad_token = None
    tokenizer.save_pretrained(folder)
    model = _random_llama(tokenizer, hidden_size=16, layers=1, initializer_range=0.02, pad_token_id=None)
    model.save_pretrained(folder)
    return folder
