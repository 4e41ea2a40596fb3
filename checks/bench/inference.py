"""Cached model load, greedy generation speed per precision, and the CPU's fp32 and bf16 matmul speed."""

from __future__ import annotations

import gc
import time

import torch

from checks.bench.report import Generation, Inference
from helpers.models import CHAT_MODEL_ID

PROMPTS = 8
"""Validation tickets answered in one left-padded batch (the challenge's prompts)."""
MAX_NEW_TOKENS = 32
"""New tokens per prompt; ``min_new_tokens`` equals it, so every precision generates the same count."""
GENERATION_TIME_LIMIT_S = 60.0
"""Seconds one precision's batch may generate (``generate(max_time=...)``): a precision slower than this stops early
and its row says so."""
MATMUL_SHAPE = (256, 576, 1536)
"""``(rows, inner, cols)``: a batch of 256 tokens' SmolLM2 activations (576 wide) times its MLP weight (1536).
Small, because an emulated bf16 matmul can be 1,000 x slower than fp32."""


def matmul_gflops(dtype: torch.dtype, *, seconds: float = 1.0) -> float:
    """GFLOP/s of repeated :data:`MATMUL_SHAPE` matmuls in ``dtype`` for about ``seconds`` (at least one)."""
    rows, inner, cols = MATMUL_SHAPE
    a, b = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, cols, dtype=dtype)
    a[:8] @ b  # warm-up: kernel selection, thread pool
    count, started = 0, time.perf_counter()
    while True:
        a @ b
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return round(2 * rows * inner * cols * count / elapsed / 1e9, 1)


def _quantization(precision: str):
    from transformers import BitsAndBytesConfig

    if precision == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.float32)


def _load(precision: str):
    from transformers import AutoModelForCausalLM

    from helpers.env import progress_bars_off

    kwargs = {"dtype": torch.bfloat16 if precision == "bf16" else torch.float32}
    if precision in ("int8", "nf4"):
        kwargs.update(quantization_config=_quantization(precision), device_map={"": "cpu"})
    with progress_bars_off():
        return AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, **kwargs).eval()


def _generate(model, batch, pad_token_id: int) -> tuple[int, float]:
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**batch, max_new_tokens=MAX_NEW_TOKENS, min_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                             pad_token_id=pad_token_id, max_time=GENERATION_TIME_LIMIT_S)
    seconds = time.perf_counter() - started
    return (out.shape[1] - batch["input_ids"].shape[1]) * out.shape[0], seconds


def measure_inference() -> Inference:
    """Load SmolLM2 once in each precision and generate :data:`MAX_NEW_TOKENS` for :data:`PROMPTS` prompts.

    bf16 generation runs only where :func:`helpers.device.cpu_bf16_native` (elsewhere torch emulates bf16
    matmuls, and 8 x 32 tokens would take many minutes; the matmul figures show the gap instead).
    """
    from transformers import AutoTokenizer

    from helpers.challenge.task import load_splits, to_messages
    from helpers.device import cpu_bf16_native

    tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID, padding_side="left")
    messages = load_splits(("validation",))["validation"]["message"][:PROMPTS]
    batch = tokenizer.apply_chat_template([to_messages(m) for m in messages], add_generation_prompt=True,
                                          tokenize=True, padding=True, return_tensors="pt", return_dict=True)
    started = time.perf_counter()
    model = _load("fp32")
    load_seconds = time.perf_counter() - started
    del model
    rows = []
    for precision in ("fp32", "bf16", "int8", "nf4"):
        if precision == "bf16" and not cpu_bf16_native():
            rows.append(Generation(precision=precision, new_tokens=None, seconds=None, tokens_per_s=None,
                                   note="not run: torch emulates bf16 matmuls on this CPU (see matmul_gflops)"))
            print(f"    {precision}: not run (emulated bf16)", flush=True)
            continue
        model = _load(precision)
        _generate(model, {k: v[:1] for k, v in batch.items()}, tokenizer.pad_token_id)  # warm-up, one prompt
        tokens, seconds = _generate(model, batch, tokenizer.pad_token_id)
        stopped = tokens < PROMPTS * MAX_NEW_TOKENS
        rows.append(Generation(precision=precision, new_tokens=tokens, seconds=round(seconds, 2),
                               tokens_per_s=round(tokens / seconds, 1),
                               note=f"stopped at the {GENERATION_TIME_LIMIT_S:.0f} s limit" if stopped else ""))
        print(f"    {precision}: {tokens / seconds:.1f} new tokens/s", flush=True)
        del model
        gc.collect()
    gflops = {"fp32": matmul_gflops(torch.float32), "bf16": matmul_gflops(torch.bfloat16, seconds=0.5)}
    return Inference(load_seconds=round(load_seconds, 2), prompts=PROMPTS, max_new_tokens=MAX_NEW_TOKENS,
                     generation=rows, matmul_gflops=gflops)
