"""Autograder for 03 · Exercise: a text generation system on SmolLM2-135M-Instruct.

The checks never trust what the notebook prints or stores. They call the learner's
functions with the grader's own model and tokenizer, watch every ``model.generate``
call through :class:`GenerateSpy` (arguments, prompt and output token counts) and
compare with reference outputs the grader computes itself with plain
``generate`` calls. Each check owns one mistake, so a wrong answer fails the check
that teaches its fix and not a cascade of others.

Tasks 2 and 3 (``generate_text``, ``generate_batch``) are about what the code does with
*a* causal LM: greedy equals the model's own greedy output, a seed reproduces a sample,
beams, padding. Their checks run on :func:`random_llama`, a small Llama with random weights
and SmolLM2's tokenizer, which writes a token in about 2 ms; SmolLM2 needs about 75 ms
on a 2-core CPU (all 540 MB of its fp32 weights are read for every token). Tasks 1 and 4
use SmolLM2 itself (:func:`grader_model`), Task 5 the learner's own 8-bit and 4-bit loads of it.
No check of a later task calls the learner's ``load_generator``: a learner who takes Task 1's
catch-up (:func:`_catch_up_generator`) is graded normally on Tasks 2 to 5. The Bonus tasks
(``fit_prompt``, ``PRESETS``) are optional and scored apart.

This module holds the check definitions; their tooling lives beside it: :mod:`checks.parts.exercise_models` (the
grader's models and reference outputs) and :mod:`checks.parts.exercise_spy` (watching ``model.generate``).
"""

from __future__ import annotations

from typing import Any

import torch

from checks.grader import Part, expect, prerequisite, require
from checks.parts.exercise_models import (
    fresh_tokenizer,
    grader_model,
    no_pad_model_dir,
    random_llama,
    reference_chat,
    reference_text,
)
from checks.parts.exercise_spy import GenerateSpy

part = Part("exercise")

T1 = "Task 1: load_generator"
T2 = "Task 2: generate_text"
T3 = "Task 3: generate_batch"
T4 = "Task 4: chat"
T5 = "Task 5: quantize and measure"
T6 = "Bonus A: fit_prompt"
T7 = "Bonus B: generation presets"

PROMPT = "The capital of France is"
STORY = "Once upon a time, in a small village by the sea,"
BATCH = [PROMPT, "Once upon a time, in a small village by the sea, there lived", "def fibonacci(n):"]
CHAT_MESSAGES = ({"role": "user", "content": "Name three primary colours."},)


RANDOM_WORDS = " (the grader's test model has random weights, so the words are random: only equality counts)"
"""Appended where a message shows :func:`~checks.parts.exercise_models.random_llama`'s text, so nobody reads meaning
into it."""


def _text(value: Any, name: str) -> str:
    expect(type(value) is str, f"{name} should return a str, got {type(value).__name__} "
                               f"{prerequisite(STR_CHECK)}.")
    return value


STR_CHECK = "generate_text returns a str"
PRESET_TYPES_CHECK = "PRESETS maps factual, balanced and creative to GenerationConfigs"


def _same(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def _without_echo(text: str, prompt: str) -> str:
    """The echo has its own check; other checks look at what follows the prompt."""
    return text[len(prompt):] if text.startswith(prompt) else text


# --------------------------------------------------------------------------- Task 1


_loaded: dict[str, Any] = {}
LM_HEAD_CHECK = "load_generator returns a causal LM with its LM head, and its tokenizer"
PAD_TOKEN_CHECK = "the tokenizer gets a pad token when the model ships without one"


def _load(ns: dict[str, Any], which: str = "chat", *, explain: bool = False) -> tuple[Any, Any]:
    """Call the learner's ``load_generator`` once per function object and model.

    When it raises, the error is kept: the check that ``explain``s says in one line what happened and what to do,
    the others point to that check instead of repeating a library's message.
    """
    from helpers.models import CHAT_MODEL_ID

    load_generator = require(ns, "load_generator", callable)
    if _loaded.get("func") is not load_generator:
        _loaded.clear()
        _loaded["func"] = load_generator
    name = CHAT_MODEL_ID if which == "chat" else no_pad_model_dir()
    if which not in _loaded:
        try:
            _loaded[which] = load_generator(name)
        except Exception as err:  # the learner's loading code may raise anything: explain it once
            _loaded[which] = err
    result = _loaded[which]
    if which != "chat" and isinstance(_loaded.get("chat"), Exception):
        explain = False  # the same loading code failed on the chat model: one explanation is enough
    if isinstance(result, Exception):
        if not explain:
            owner = LM_HEAD_CHECK if which == "chat" or isinstance(_loaded.get("chat"), Exception) else PAD_TOKEN_CHECK
            expect(False, f"load_generator could not load the model {prerequisite(owner)}.")
        from helpers.versions import diagnose

        first = next((line.strip() for line in str(result).splitlines() if line.strip()), "")[:200]
        advice = diagnose(result) or ("the model_name the check passes is a Hub id (or a local folder): give it to "
                                      "from_pretrained unchanged")
        expect(False, f"load_generator({name!r}) raised {type(result).__name__}: {first} -> {advice}")
    expect(isinstance(result, tuple | list) and len(result) == 2,
           f"load_generator should return a (model, tokenizer) tuple, got {type(result).__name__}.")
    return tuple(result)


@part.check(LM_HEAD_CHECK, task=T1,
            hint="Use AutoModelForCausalLM (not AutoModel) and AutoTokenizer on model_name; "
                 "return them in the order (model, tokenizer).",
            more_hint="tokenizer = AutoTokenizer.from_pretrained(model_name, padding_side=\"left\"); model = "
                      "AutoModelForCausalLM.from_pretrained(model_name, dtype=info.dtype).to(info.device); "
                      "return model.eval(), tokenizer.")
def _lm_head(ns):
    from transformers import GenerationMixin, PreTrainedModel, PreTrainedTokenizerBase

    model, tokenizer = _load(ns, explain=True)
    if isinstance(model, PreTrainedTokenizerBase) and isinstance(tokenizer, PreTrainedModel):
        expect(False, "load_generator returned (tokenizer, model): return (model, tokenizer).")
    expect(isinstance(model, PreTrainedModel), f"the first item should be a Transformers model, "
                                               f"got {type(model).__name__}.")
    expect(model.get_output_embeddings() is not None and isinstance(model, GenerationMixin),
           f"{type(model).__name__} has no language-model head: it returns hidden states, not next-token "
           "scores, so it cannot generate. AutoModelForCausalLM adds the head (LlamaForCausalLM).")
    expect(isinstance(tokenizer, PreTrainedTokenizerBase),
           f"the second item should be the tokenizer, got {type(tokenizer).__name__}.")


@part.check(PAD_TOKEN_CHECK, task=T1,
            hint="Batches need padding. If tokenizer.pad_token is None, reuse the end-of-sequence token.",
            more_hint="Two lines after loading the tokenizer: if tokenizer.pad_token is None: "
                      "tokenizer.pad_token = tokenizer.eos_token")
def _pad_token(ns):
    _, tokenizer = _load(ns, "no_pad", explain=True)
    expect(getattr(tokenizer, "pad_token", None) is not None and tokenizer.pad_token_id is not None,
           "for a model whose tokenizer has no pad token, load_generator left tokenizer.pad_token as None; "
           "padding a batch would raise 'Asking to pad but the tokenizer does not have a padding token'.")


@part.check("the tokenizer pads on the left", task=T1,
            hint="Make the tokenizer pad on the left.",
            more_hint="AutoTokenizer.from_pretrained(model_name, padding_side='left'), or set "
                      "tokenizer.padding_side = 'left' before returning it.")
def _padding_side(ns):
    _, tokenizer = _load(ns)
    side = getattr(tokenizer, "padding_side", None)
    expect(side == "left",
           f"padding_side is {side!r}. A decoder-only model writes its answer after the last position: right "
           "padding puts pad tokens between a short prompt and its answer, and batched results change.")


@part.check("the model is in eval mode", task=T1,
            hint="Call model.eval() before returning it: it turns dropout off, so the same input always gives "
                 "the same scores.",
            more_hint="model.eval() returns the model itself: return model.eval(), tokenizer.")
def _eval_mode(ns):
    model, _ = _load(ns)
    expect(hasattr(model, "training"), f"load_generator returned {type(model).__name__}, not a model.")
    expect(not model.training, "model.training is True: the model is in training mode (dropout on).")


@part.check("the model is on the device and dtype chosen by helpers.setup()", task=T1,
            hint="Load with from_pretrained(model_name, dtype=info.dtype) and move it with .to(info.device); "
                 "info comes from helpers.setup() at the top of the notebook.",
            more_hint="model = AutoModelForCausalLM.from_pretrained(model_name, dtype=info.dtype).to(info.device)")
def _device_dtype(ns):
    from helpers.device import pick_device, pick_dtype

    model, _ = _load(ns)
    device = pick_device()
    dtype = pick_dtype(device)
    actual = getattr(model, "device", None)
    expect(actual is not None and torch.device(actual).type == device.type,
           f"the model is on {actual}, but helpers.setup() chose {device.type}.")
    if model.dtype == torch.bfloat16 and dtype != torch.bfloat16:
        expect(False, f"the model is in torch.bfloat16, the checkpoint's own dtype (from_pretrained without dtype= "
                      f"keeps it), but helpers.setup() chose {dtype} for this {device.type}: bf16 matmuls are slow "
                      "on most CPUs. Pass dtype=info.dtype.")
    expect(model.dtype == dtype,
           f"the model is in {model.dtype}, but helpers.setup() chose {dtype} for {device.type}: pass "
           "dtype=info.dtype to from_pretrained.")


@part.catch_up(T1)
def _catch_up_generator() -> tuple[Any, Any]:
    """What Task 1 returns, loaded by the grader: SmolLM2 on ``helpers.device``'s device and dtype, in eval mode,
    and its tokenizer with a pad token, padding on the left. A fresh pair: the checks' own copies stay private."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helpers.device import pick_device, pick_dtype
    from helpers.env import progress_bars_off
    from helpers.models import CHAT_MODEL_ID

    device = pick_device()
    with progress_bars_off():
        tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID, padding_side="left")
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=pick_dtype(device)).to(device)
    return model.eval(), tokenizer


# --------------------------------------------------------------------------- Task 2


def _generate_text(ns):
    return require(ns, "generate_text", callable)


@part.check(STR_CHECK, task=T2,
            hint="Decode one sequence of ids into text: tokenizer.decode(ids, skip_special_tokens=True).",
            more_hint="generate returns a batch of sequences: decode output_ids[0, ...], the first row.")
def _returns_str(ns):
    model, _ = random_llama()
    out = _generate_text(ns)(model, fresh_tokenizer(), PROMPT, max_new_tokens=4)
    expect(type(out) is str, f"generate_text returned {type(out).__name__}; it should return a str "
                             "(decode the ids, and take the first sequence of the batch).")


@part.check("generate_text returns only the new text, not the prompt", task=T2,
            hint="generate returns the prompt's ids followed by the new ones: slice off the first "
                 "inputs['input_ids'].shape[1] ids before decoding.",
            more_hint="tokenizer.decode(output_ids[0, inputs[\"input_ids\"].shape[1]:], skip_special_tokens=True)")
def _no_echo(ns):
    model, _ = random_llama()
    out = _text(_generate_text(ns)(model, fresh_tokenizer(), PROMPT, max_new_tokens=4), "generate_text")
    expect(not out.startswith(PROMPT), f"the output starts with the prompt: {out!r}.")


@part.check("greedy decoding by default: deterministic and equal to the model's greedy output", task=T2,
            hint="With temperature None or 0 call generate with do_sample=False, and decode with "
                 "skip_special_tokens=True.",
            more_hint="do_sample=bool(temperature) is False for None and 0; pass temperature only when it is "
                      "positive (temperature=temperature or None).")
def _greedy(ns):
    model, _ = random_llama()
    generate_text = _generate_text(ns)
    outputs, counts = [], []
    for temperature in (None, None, 0):
        with GenerateSpy(model) as spy:
            kwargs = {} if temperature is None else {"temperature": temperature}
            try:
                text = generate_text(model, fresh_tokenizer(), PROMPT, max_new_tokens=6, **kwargs)
            except ValueError as err:
                expect(False, f"temperature={temperature} should decode greedily, but your code raised "
                              f"ValueError: {str(err)[:120]}")
            text = _text(text, "generate_text")
        outputs.append(_without_echo(text, PROMPT))
        counts.append(spy.last.new_tokens)
        expect(not spy.last.samples, f"generate was called with do_sample=True for temperature={temperature}: "
                                     "the result is random, not greedy.")
    expect(outputs[0] == outputs[1],
           f"two greedy calls gave different text: {outputs[0]!r} vs {outputs[1]!r}{RANDOM_WORDS}.")
    expect(_same(outputs[0], outputs[2]),
           f"temperature=0 should be greedy too, but gave {outputs[2]!r} instead of {outputs[0]!r}{RANDOM_WORDS}.")
    expected = reference_text(PROMPT, counts[0])
    expect(_same(outputs[0], expected),
           f"the greedy text differs from the model's own greedy continuation: expected {expected!r}, "
           f"got {outputs[0]!r}{RANDOM_WORDS}.")


@part.check("max_new_tokens limits the number of generated tokens", task=T2,
            hint="Pass max_new_tokens=max_new_tokens to generate; it counts tokens, not characters, and "
                 "never cut the decoded string yourself.",
            more_hint="model.generate(**inputs, max_new_tokens=max_new_tokens, ...): not max_length, which counts "
                      "the prompt too.")
def _max_new_tokens(ns):
    model, _ = random_llama()
    generate_text = _generate_text(ns)
    for asked in (3, 7):
        with GenerateSpy(model) as spy:
            generate_text(model, fresh_tokenizer(), STORY, max_new_tokens=asked)
        call = spy.last
        expect(call.config.max_new_tokens == asked,
               f"asked for max_new_tokens={asked}, generate received max_new_tokens="
               f"{call.config.max_new_tokens} (max_length={call.config.max_length}).")
        expect(call.new_tokens <= asked, f"asked for {asked} new tokens, generate produced {call.new_tokens}.")


@part.check("a positive temperature samples, with the given temperature, top_k, top_p and repetition_penalty",
            task=T2,
            hint="generate ignores temperature, top_k and top_p unless do_sample=True (it only logs a "
                 "warning). Pass do_sample=True when temperature > 0, and pass the other settings through.",
            more_hint="model.generate(**inputs, do_sample=bool(temperature), temperature=temperature or None, "
                      "top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty, ...)")
def _sampling_settings(ns):
    model, _ = random_llama()
    with GenerateSpy(model) as spy:
        _generate_text(ns)(model, fresh_tokenizer(), STORY, max_new_tokens=4, temperature=0.7, top_k=20,
                           top_p=0.9, repetition_penalty=1.2, seed=1)
    config = spy.last.config
    expect(config.do_sample is True,
           f"temperature=0.7 was passed but generate got do_sample={config.do_sample}: it decoded greedily.")
    for name, value in (("temperature", 0.7), ("top_k", 20), ("top_p", 0.9), ("repetition_penalty", 1.2)):
        got = getattr(config, name)
        expect(got == value, f"generate received {name}={got!r}, expected {value!r}.")


def _samples(ns, seeds: list[int | None]) -> list[str]:
    """Learner samples of STORY, one per seed; the global RNG is moved between calls."""
    model, _ = random_llama()
    generate_text = _generate_text(ns)
    torch.manual_seed(12345)
    texts = []
    for index, seed in enumerate(seeds):
        torch.rand(index + 1)  # a seed must make the result independent of earlier random draws
        with GenerateSpy(model) as spy:
            text = generate_text(model, fresh_tokenizer(), STORY, max_new_tokens=6, temperature=1.0, seed=seed)
        texts.append(_text(text, "generate_text"))
        if not spy.last.samples:
            return []  # no sampling at all: the sampling check reports it
    return texts


@part.check("the same seed reproduces the same sample", task=T2,
            hint="Seed the random generators right before generate when seed is not None: "
                 "transformers.set_seed(seed) (or torch.manual_seed(seed)).",
            more_hint="if seed is not None: transformers.set_seed(seed), as the line just before model.generate(...).")
def _same_seed(ns):
    texts = _samples(ns, [7, 7])
    if texts:
        expect(texts[0] == texts[1], f"two calls with seed=7 gave different samples: {texts[0]!r} vs {texts[1]!r}"
                                        f"{RANDOM_WORDS}.")


@part.check("different seeds give different samples", task=T2,
            hint="Seed with the seed argument, not a fixed number, and only when one is given.",
            more_hint="transformers.set_seed(seed), with the function's seed argument, not set_seed(0) or "
                      "set_seed(42).")
def _different_seeds(ns):
    texts = _samples(ns, [1, 2, 3])
    if texts:
        expect(len(set(texts)) > 1, f"seeds 1, 2 and 3 all gave the same sample {texts[0]!r}.")


@part.check("num_beams > 1 runs beam search", task=T2,
            hint="Pass num_beams=num_beams to generate (beam search keeps the num_beams most likely "
                 "continuations at each step).",
            more_hint="model.generate(**inputs, num_beams=num_beams, ...): beam search needs no do_sample.")
def _beam_search(ns):
    model, _ = random_llama()
    with GenerateSpy(model) as spy:
        text = _text(_generate_text(ns)(model, fresh_tokenizer(), PROMPT, max_new_tokens=6, num_beams=3),
                     "generate_text")
    call = spy.last
    expect(call.config.num_beams == 3, f"asked for num_beams=3, generate received num_beams={call.config.num_beams}.")
    expected = reference_text(PROMPT, call.new_tokens, num_beams=3)
    expect(_same(_without_echo(text, PROMPT), expected),
           f"beam search with 3 beams should give {expected!r}, got {text!r}{RANDOM_WORDS}.")


# --------------------------------------------------------------------------- Task 3


@part.check("generate_batch returns one str per prompt from a single generate call", task=T3,
            hint="Tokenize all prompts at once (tokenizer(prompts, padding=True, return_tensors='pt')), call "
                 "generate once, then tokenizer.batch_decode the new tokens.")
def _one_call(ns):
    model, _ = random_llama()
    generate_batch = require(ns, "generate_batch", callable)
    with GenerateSpy(model) as spy:
        out = generate_batch(model, fresh_tokenizer(), list(BATCH), max_new_tokens=4)
    expect(len(spy.calls) == 1, f"generate was called {len(spy.calls)} times for {len(BATCH)} prompts: "
                                "one batched call is what makes batching fast.")
    expect(spy.last.batch_size == len(BATCH),
           f"generate received a batch of {spy.last.batch_size} sequences for {len(BATCH)} prompts.")
    expect(type(out) is list and len(out) == len(BATCH) and all(type(t) is str for t in out),
           f"generate_batch should return a list of {len(BATCH)} str, got "
           f"{type(out).__name__} {[type(t).__name__ for t in out] if isinstance(out, list | tuple) else ''}.")


@part.check("batched greedy results equal single-prompt results (left padding, attention mask)", task=T3,
            hint="Pad on the left (padding_side='left') and pass the attention mask (generate(**inputs)), so "
                 "every prompt ends at the last position and pads are ignored.")
def _batch_equals_single(ns):
    model, _ = random_llama()
    generate_batch = require(ns, "generate_batch", callable)
    with GenerateSpy(model) as spy:
        out = generate_batch(model, fresh_tokenizer(), list(BATCH), max_new_tokens=10)
    expect(isinstance(out, list | tuple) and len(out) == len(BATCH),
           "generate_batch must return one text per prompt (see the check above).")
    expect(spy.calls and all("attention_mask" in c.kwargs for c in spy.calls),
           "generate was called without attention_mask: the model cannot tell pads from text.")
    for prompt, text in zip(BATCH, out, strict=True):
        expected = reference_text(prompt, 10)
        expect(isinstance(text, str) and _same(_without_echo(text, prompt), expected),
               f"for {prompt!r} the batch gave {text!r}, but the prompt alone gives {expected!r}{RANDOM_WORDS}.")


# --------------------------------------------------------------------------- Task 4


@part.check("chat answers with the assistant's reply only", task=T4,
            hint="apply_chat_template(messages, add_generation_prompt=True, return_dict=True, "
                 "return_tensors='pt'), generate(**inputs, ...), decode only the new tokens.")
def _chat(ns):
    model, _ = grader_model()
    chat = require(ns, "chat", callable)
    with GenerateSpy(model) as spy:
        reply = chat(model, fresh_tokenizer(), [dict(m) for m in CHAT_MESSAGES], max_new_tokens=12)
    expect(type(reply) is str, f"chat should return a str, got {type(reply).__name__}.")
    expect(spy.last.config.max_new_tokens == 12,
           f"chat(..., max_new_tokens=12) reached generate as max_new_tokens={spy.last.config.max_new_tokens}: "
           "pass the keyword arguments through.")
    expected = reference_chat(CHAT_MESSAGES, 12)
    if _same(reply, expected):
        return
    expect(CHAT_MESSAGES[0]["content"] not in reply and "<|im_start|>" not in reply,
           f"the reply contains the conversation: {reply[:80]!r}...")
    expect(not _same(reply, reference_chat(CHAT_MESSAGES, 12, add_generation_prompt=False)),
           f"the reply starts {reply[:20]!r}: without add_generation_prompt=True the assistant's turn is never "
           "opened, so the model writes the role name first.")
    expect(False, f"expected the greedy reply {expected!r}, got {reply!r}.")


# --------------------------------------------------------------------------- Task 5

LINEAR_LAYERS = 30 * 7
"""Quantized linear layers of SmolLM2-135M: 7 projections in each of its 30 blocks (lm_head stays unquantized)."""
QCONFIG_CHECK = "make_quantization_config(8) is LLM.int8, (4) is NF4 with double quantization and the device's dtype"
QLOAD_CHECK = "load_quantized(8) and (4) load SmolLM2 with really quantized linear layers, on the device, in eval mode"
NF4_CALL = ("BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"nf4\", bnb_4bit_use_double_quant=True, "
            "bnb_4bit_compute_dtype=info.compute_dtype)")


def _bnb_layers(model) -> dict[int, int]:
    """``{8: int8 linear layers, 4: 4-bit linear layers}`` of ``model``."""
    from bitsandbytes.nn import Linear4bit, Linear8bitLt

    counts = {8: 0, 4: 0}
    for module in model.modules():
        counts[8] += isinstance(module, Linear8bitLt)
        counts[4] += isinstance(module, Linear4bit)
    return counts


@part.check(QCONFIG_CHECK, task=T5,
            hint="make_quantization_config(8): BitsAndBytesConfig(load_in_8bit=True). (4): load_in_4bit=True with "
                 "the NF4 type, double quantization and the compute dtype the task names.",
            more_hint=f"make_quantization_config(4) returns {NF4_CALL}.")
def _quant_config(ns):
    from transformers import BitsAndBytesConfig

    from helpers.device import compute_dtype, pick_device

    make = require(ns, "make_quantization_config", callable)
    eight, four = make(8), make(4)
    for bits, config in ((8, eight), (4, four)):
        expect(isinstance(config, BitsAndBytesConfig),
               f"make_quantization_config({bits}) returned {type(config).__name__}, not a BitsAndBytesConfig.")
    wrong = []  # every setting that differs, so one failed check names them all
    if not (eight.load_in_8bit and not eight.load_in_4bit):
        wrong.append("(8) does not set load_in_8bit=True")
    if not (four.load_in_4bit and not four.load_in_8bit):
        wrong.append("(4) does not load in 4-bit: set load_in_4bit=True (load_in_8bit is LLM.int8)")
    if four.bnb_4bit_quant_type != "nf4":
        wrong.append(f"(4) has bnb_4bit_quant_type {four.bnb_4bit_quant_type!r}: use \"nf4\" (normal-float 4, "
                     "spaced for normally distributed weights)")
    if not four.bnb_4bit_use_double_quant:
        wrong.append("(4) has bnb_4bit_use_double_quant off: double quantization also quantizes the per-block "
                     "scales (about 0.4 bit per weight saved)")
    expected = compute_dtype(pick_device())
    if four.bnb_4bit_compute_dtype != expected:
        wrong.append(f"(4) has bnb_4bit_compute_dtype {four.bnb_4bit_compute_dtype}: on this device the 4-bit "
                     f"matmuls should run in {expected} (info.compute_dtype)")
    expect(not wrong, "make_quantization_config" + "; ".join(wrong) + ".")


@part.check(QLOAD_CHECK, task=T5,
            hint="from_pretrained(CHAT_MODEL_ID, quantization_config=make_quantization_config(bits), "
                 "dtype=torch.float32, device_map={\"\": info.device.type}), then .eval().",
            more_hint="The whole answer is one line: return AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, "
                      "quantization_config=make_quantization_config(bits), dtype=torch.float32, "
                      "device_map={\"\": info.device.type}).eval()")
def _quant_load(ns):
    from helpers.device import pick_device
    from helpers.env import silence_bitsandbytes

    silence_bitsandbytes()
    load_quantized = require(ns, "load_quantized", callable)
    device = pick_device()
    for bits in (8, 4):
        model = load_quantized(bits)
        expect(hasattr(model, "get_memory_footprint"),
               f"load_quantized({bits}) returned {type(model).__name__}, not a Transformers model.")
        layers = _bnb_layers(model)
        other = 4 if bits == 8 else 8
        expect(layers[bits] == LINEAR_LAYERS and layers[other] == 0,
               f"load_quantized({bits}) has {layers[bits]} {bits}-bit linear layers (expected {LINEAR_LAYERS}: 7 "
               f"projections in 30 blocks) and {layers[other]} {other}-bit ones: pass "
               f"quantization_config=make_quantization_config({bits}) to from_pretrained.")
        expect(torch.device(model.device).type == device.type,
               f"load_quantized({bits}) is on {model.device}, not on {device.type}: pass "
               f"device_map={{\"\": info.device.type}}.")
        expect(not model.training, f"load_quantized({bits}) is in training mode: call .eval().")
        del model


# --------------------------------------------------------------------------- Bonus A (optional)

LONG_TEXT = " ".join(
    f"Room {i} of the old house has a {colour} carpet and a window facing the {side}."
    for i, (colour, side) in enumerate(
        [("red", "garden"), ("blue", "street"), ("green", "river"), ("grey", "hills")] * 8, start=1)
) + " Question: what colour is the carpet in room 32?"


def _token_count(text: str) -> int:
    return len(fresh_tokenizer()(text, add_special_tokens=False)["input_ids"])


def _fit_prompt(ns):
    return require(ns, "fit_prompt", callable)


@part.check("fit_prompt leaves a prompt that fits unchanged", task=T6,
            hint="Count the prompt's tokens first; when prompt + max_new_tokens <= context_window, return the "
                 "text as it is.")
def _fit_short(ns):
    tokenizer = fresh_tokenizer()
    prompt = tokenizer.apply_chat_template(list(CHAT_MESSAGES), tokenize=False, add_generation_prompt=True)
    out = _fit_prompt(ns)(tokenizer, prompt, 16, 64)
    expect(type(out) is str, f"fit_prompt should return a str, got {type(out).__name__}.")
    expect(out == prompt, f"a {_token_count(prompt)}-token chat prompt fits in 64 - 16 tokens, but came back "
                          f"changed: {out!r} instead of {prompt!r}.")


@part.check("fit_prompt keeps the end of a long prompt, within the context window", task=T6,
            hint="Tokenize, keep the last (context_window - max_new_tokens) ids and decode them: the question "
                 "is usually at the end. Count tokens, not characters.")
def _fit_long(ns):
    window, new = 128, 32
    out = _fit_prompt(ns)(fresh_tokenizer(), LONG_TEXT, new, window)
    expect(type(out) is str, f"fit_prompt should return a str, got {type(out).__name__}.")
    tokens = _token_count(out)
    expect(tokens + new <= window,
           f"the fitted prompt has {tokens} tokens; with {new} new tokens that is {tokens + new} > {window}: "
           "generation would run past the context window.")
    expect(LONG_TEXT.endswith(out.strip()) and out.strip(),
           f"the fitted prompt should be the end of the text, but it ends with {out[-40:]!r}: the question at "
           "the end was dropped.")
    expect(tokens >= window - new - 3,
           f"only {tokens} tokens were kept; {window - new} fit: keep as much of the end as fits.")


@part.check("fit_prompt refuses a context window that leaves no room for the prompt", task=T6,
            hint="If max_new_tokens >= context_window, raise ValueError with a message that says so.")
def _fit_invalid(ns):
    fit_prompt = _fit_prompt(ns)
    try:
        out = fit_prompt(fresh_tokenizer(), LONG_TEXT, 64, 64)
    except ValueError:
        return
    expect(False, f"fit_prompt(tokenizer, text, max_new_tokens=64, context_window=64) returned {str(out)[:40]!r} "
                  "instead of raising ValueError: no token of the prompt fits.")


# --------------------------------------------------------------------------- Bonus B (optional)

PRESET_NAMES = ("factual", "balanced", "creative")


def _presets(ns, *, owner: bool = False) -> dict[str, Any]:
    from transformers import GenerationConfig

    presets = require(ns, "PRESETS", dict)
    missing = [n for n in PRESET_NAMES if n not in presets]
    pointer = "" if owner else f" {prerequisite(PRESET_TYPES_CHECK)}"
    expect(not missing, f"PRESETS has no {missing} entry (it has {sorted(presets)}){pointer}.")
    for name in PRESET_NAMES:
        expect(isinstance(presets[name], GenerationConfig),
               f"PRESETS[{name!r}] should be a GenerationConfig, got {type(presets[name]).__name__}{pointer}.")
    return presets


@part.check(PRESET_TYPES_CHECK, task=T7,
            hint="PRESETS = {'factual': GenerationConfig(...), 'balanced': GenerationConfig(...), "
                 "'creative': GenerationConfig(...)}.")
def _preset_names(ns):
    _presets(ns, owner=True)


@part.check("every preset passes GenerationConfig.validate(strict=True)", task=T7,
            hint="Sampling settings (temperature, top_k, top_p) need do_sample=True; a greedy preset leaves "
                 "them unset. Run PRESETS[name].validate(strict=True) to see the problem.")
def _preset_valid(ns):
    import logging

    presets = _presets(ns)
    logger = logging.getLogger("transformers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        for name in PRESET_NAMES:
            try:
                presets[name].validate(strict=True)
            except ValueError as err:
                first = [line for line in str(err).splitlines() if line.startswith("- ")][:1]
                expect(False, f"PRESETS[{name!r}] is invalid: {' '.join(first) or err}")
    finally:
        logger.setLevel(level)


@part.check("factual is greedy; balanced and creative sample with rising temperature and top_p", task=T7,
            hint="factual: do_sample=False. balanced and creative: do_sample=True, and creative gets the higher "
                 "temperature and a top_p at least as high.")
def _preset_order(ns):
    presets = _presets(ns)
    factual, balanced, creative = (presets[n] for n in PRESET_NAMES)
    expect(not factual.do_sample, "factual samples (do_sample=True): a factual answer should be deterministic.")
    expect(balanced.do_sample and creative.do_sample,
           "balanced and creative should both sample (do_sample=True).")
    t_bal, t_cre = balanced.temperature or 1.0, creative.temperature or 1.0
    p_bal, p_cre = balanced.top_p or 1.0, creative.top_p or 1.0
    expect(t_cre > t_bal, f"creative's temperature ({t_cre}) should be higher than balanced's ({t_bal}).")
    expect(p_cre >= p_bal, f"creative's top_p ({p_cre}) should be at least balanced's ({p_bal}).")
