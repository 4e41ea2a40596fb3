"""``make gpu-check``: does the workshop's GPU path work on this CUDA machine? About three minutes, no network.

On a machine with torch, transformers and peft already installed (bitsandbytes is installed from a wheels folder when
it is missing, see :func:`ensure_bitsandbytes`), each step below runs once on the GPU and becomes one row of a table
(step, result, seconds, detail); the command exits 1 when a step failed::

    PYTHONPATH=. python -m checks.bench.gpu_check            # on the GPU machine
    PYTHONPATH=. python -m checks.bench.gpu_check --wheels build/gpu-wheels   # where pip can download, beforehand

The steps use a tiny Llama with random weights (hidden size 64, 2 blocks, SmolLM2's 49,152-token vocabulary: the idea
of ``random_llama`` in ``checks/parts/exercise_models.py``) and SmolLM2's tokenizer from the workshop's offline cache
(a small byte-level BPE tokenizer built in code when that cache is missing; the table says which):

* ``precision``: :func:`helpers.device.setup` and its decision (``pick_dtype``, ``mixed_precision``, compute dtype);
* ``bitsandbytes``: importable, else installed with ``pip install --no-index --find-links DIR``;
* ``load 8-bit`` / ``load 4-bit``: the tiny model saved to a temporary folder and reloaded with a
  ``BitsAndBytesConfig`` (LLM.int8; NF4 with double quantization), then one forward pass;
* ``LoRA 3 steps``: ``Trainer`` with ``bf16``/``fp16`` set from the precision decision
  (:func:`helpers.device.trainer_flags`);
* ``QLoRA step``: the 4-bit model, ``prepare_model_for_kbit_training``, LoRA adapters, one ``Trainer`` step;
* ``generate``: 8 greedy new tokens;
* ``memory``: peak memory of one LoRA training step. ``helpers.challenge.memory_probe`` loads SmolLM2 itself in a
  child process from a spec folder, so it cannot measure this model: the step measures
  ``torch.cuda.max_memory_allocated`` around the step instead (:func:`helpers.memory.peak_memory`).

Every step is a function with the device as an argument, so ``checks/tests/test_gpu_check.py`` runs the ones that
work on a CPU. Without CUDA the command prints :data:`NO_GPU_LINE` and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import math
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import helpers  # noqa: F401  (importing helpers points the Hugging Face libraries at the offline cache)
from helpers.device import training_label
from helpers.paths import GPU_WHEELS_DIR, REQUIREMENTS

NO_GPU_LINE = "no CUDA GPU here: nothing to check (make gpu-check is for a GPU machine)"
"""What the command prints, and all it does, where ``torch.cuda.is_available()`` is false."""
WHEELS_DIR = GPU_WHEELS_DIR
"""Default folder of :func:`fill_wheels` (``make gpu-wheels``) and of :func:`ensure_bitsandbytes`."""
WHEELS_LIMIT_BYTES = 60 * 10**6
"""Most bytes the wheels folder may hold (60 MB: it travels with the repository to the GPU machine)."""
WHEEL_PLATFORM = "manylinux_2_24_x86_64"
"""The wheel platform tag downloaded: Linux x86-64, glibc 2.24 or newer (bitsandbytes' Linux wheel)."""
PROMPT = "The capital of France is"
SEQUENCE_LENGTH = 16
"""Tokens per training example (random token ids)."""
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
"""The attention projections that get LoRA adapters."""


class GpuCheckError(RuntimeError):
    """A step did not do what it should; the message is the table's detail."""


# --------------------------------------------------------------------------- the model and the tokenizer


def load_tokenizer() -> tuple[Any, str]:
    """SmolLM2's tokenizer from the workshop's offline cache, else a small tokenizer built here.

    Returns:
        (tokenizer, where it came from): padding on the left, with a pad token.
    """
    from transformers import AutoTokenizer

    from helpers.models import CHAT_MODEL_ID

    try:
        tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID, padding_side="left")
        source = f"{CHAT_MODEL_ID} tokenizer ({len(tokenizer)} tokens)"
    except (OSError, ValueError) as err:  # not in the offline cache (make models not run on this machine)
        tokenizer = build_fallback_tokenizer()
        source = (f"{CHAT_MODEL_ID}'s tokenizer is not cached here ({type(err).__name__}): a {len(tokenizer)}-token "
                  "byte-level BPE tokenizer built in code instead")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, source


def build_fallback_tokenizer(vocab_size: int = 512) -> Any:
    """A byte-level BPE tokenizer trained in memory on a few sentences (no download), padding on the left.

    Args:
        vocab_size: most tokens (the 256 byte tokens, two special tokens and learned merges).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    text = ("The capital of France is Paris. Water boils at one hundred degrees. Once upon a time, in a small "
            "village by the sea, there lived a fisherman who counted the waves every morning.")
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|pad|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator([text] * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   pad_token="<|pad|>", padding_side="left")


def tiny_llama(tokenizer: Any, *, hidden_size: int = 64, layers: int = 2, seed: int = 0) -> Any:
    """A ``LlamaForCausalLM`` with random weights over ``tokenizer``'s vocabulary, in float32 on the CPU.

    The shape of the Exercise grader's ``random_llama`` (2 blocks of hidden size 64, untied embeddings: 6.4 M
    parameters with SmolLM2's vocabulary, 25 MB in float32), but with as many key-value heads as query heads: every
    projection then has 64 or 128 outputs. With ``random_llama``'s single key-value head, ``k_proj`` and ``v_proj``
    have 16, and bitsandbytes 0.50's CPU 4-bit kernel (AVX-512 BF16 repacking) stops with "N must be divisible by
    block_n" (measured on a Xeon with AVX-512 BF16).
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    heads = max(2, hidden_size // 16)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=heads, max_position_embeddings=256, tie_word_embeddings=False,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


def save_tiny_llama(folder: str | Path, tokenizer: Any) -> Path:
    """Write :func:`tiny_llama` and ``tokenizer`` into ``folder`` (``save_pretrained``), for reloading with a config."""
    folder = Path(folder)
    tiny_llama(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def training_examples(vocab_size: int, count: int = 4, length: int = SEQUENCE_LENGTH) -> list[dict[str, torch.Tensor]]:
    """``count`` examples of ``length`` random token ids (seed 0), labels = inputs (causal LM loss)."""
    generator = torch.Generator().manual_seed(0)
    examples = []
    for _ in range(count):
        ids = torch.randint(0, vocab_size, (length,), generator=generator)
        examples.append({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()})
    return examples


def _first_line(err: BaseException, limit: int = 160) -> str:
    lines = str(err).strip().splitlines()
    text = f"{type(err).__name__}: {lines[0] if lines else ''}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- steps


def check_precision() -> tuple[Any, str]:
    """Run ``helpers.setup(verbose=False)`` and check its precision against the GPU's own compute capability.

    Returns:
        (``DeviceInfo``, detail).

    Raises:
        GpuCheckError: bf16 was chosen on a GPU before Ampere (compute capability below 8.0, where bf16 is emulated),
            or fp16 on one that runs bf16 natively.
    """
    from helpers.device import setup

    info = setup(verbose=False)
    if info.device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(info.device)
        if (info.mixed_precision == "bf16") != (major >= 8):
            raise GpuCheckError(f"{info.mixed_precision} chosen on {info.name} (compute capability {major}.{minor}): "
                                "bf16 is native from 8.0 (Ampere), fp16 before")
    return info, (f"{info.device.type} ({info.name}): weights {str(info.dtype).removeprefix('torch.')}, training "
                  f"{training_label(info.mixed_precision)}, compute {str(info.compute_dtype).removeprefix('torch.')}")


def ensure_bitsandbytes(find_links: str | Path = WHEELS_DIR) -> str:
    """Make ``import bitsandbytes`` work: already installed, or installed offline from ``find_links``.

    Runs ``pip install --no-index --find-links DIR bitsandbytes`` when it is missing (no network needed).

    Returns:
        The detail: the version and where it came from.

    Raises:
        GpuCheckError: missing and ``find_links`` holds no bitsandbytes wheel, or pip failed.
    """
    if importlib.util.find_spec("bitsandbytes") is None:
        folder = Path(find_links)
        if not list(folder.glob("bitsandbytes-*.whl")):
            raise GpuCheckError(f"bitsandbytes is not installed and {folder} has no wheel of it: run make gpu-wheels "
                                "where pip can download, and bring the folder along")
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--no-index", "--find-links", str(folder), "bitsandbytes"],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise GpuCheckError(f"pip install --no-index --find-links {folder} bitsandbytes failed: {tail[0]}")
        importlib.invalidate_caches()
        return f"{importlib.metadata.version('bitsandbytes')}, installed from {folder}"
    return f"{importlib.metadata.version('bitsandbytes')}, already installed"


def quantization_config(bits: int, compute_dtype: torch.dtype) -> Any:
    """``BitsAndBytesConfig``: 8 = LLM.int8; 4 = NF4 with double quantization, matmuls in ``compute_dtype``.

    Raises:
        ValueError: ``bits`` is not 8 or 4.
    """
    from transformers import BitsAndBytesConfig

    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    if bits == 4:
        from checks.reference.models import nf4_config

        return nf4_config(compute_dtype)
    raise ValueError(f"bits={bits!r}: use 8 or 4.")


def load_quantized(model_dir: str | Path, bits: int, device: torch.device, compute_dtype: torch.dtype) -> Any:
    """The saved tiny model reloaded with :func:`quantization_config` on ``device`` (``device_map``)."""
    from transformers import AutoModelForCausalLM

    from helpers.env import progress_bars_off, silence_bitsandbytes

    silence_bitsandbytes()
    with progress_bars_off(with_datasets=False):
        return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                    quantization_config=quantization_config(bits, compute_dtype),
                                                    device_map={"": device.type})


def check_quantized_load(model_dir: str | Path, bits: int, device: torch.device, compute_dtype: torch.dtype) -> str:
    """Reload the tiny model in ``bits`` bits and run one forward pass.

    Raises:
        GpuCheckError: no bitsandbytes layer of that width, the model is not on ``device``, or the logits are not
            finite.
    """
    from bitsandbytes.nn import Linear4bit, Linear8bitLt

    model = load_quantized(model_dir, bits, device, compute_dtype).eval()
    layer = Linear8bitLt if bits == 8 else Linear4bit
    count = sum(isinstance(m, layer) for m in model.modules())
    if count == 0:
        raise GpuCheckError(f"no {layer.__name__} layer after loading with load_in_{bits}bit")
    if model.device.type != device.type:
        raise GpuCheckError(f"the {bits}-bit model is on {model.device}, not {device.type}")
    ids = torch.arange(1, 9, device=model.device).unsqueeze(0)
    with torch.inference_mode():
        logits = model(input_ids=ids).logits
    if not torch.isfinite(logits).all():
        raise GpuCheckError(f"the {bits}-bit model's logits are not finite")
    return (f"{count} {layer.__name__} layers, footprint {model.get_memory_footprint() / 2**20:.1f} MiB, "
            f"forward pass finite")


def _lora_config() -> Any:
    from peft import LoraConfig

    return LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=list(LORA_TARGETS), task_type="CAUSAL_LM")


def train_steps(model: Any, examples: list[dict[str, torch.Tensor]], device: torch.device, mixed_precision: str,
                steps: int, output_dir: str | Path) -> list[float]:
    """Train ``model`` for ``steps`` steps with ``Trainer`` (batch 2, ``bf16``/``fp16`` from ``mixed_precision``, one of
    :data:`helpers.device.MIXED_PRECISIONS`: :func:`helpers.device.trainer_flags`).

    On a CPU ``use_cpu=True`` keeps the Trainer off any accelerator.

    Returns:
        The training loss of every step (nats per token).

    Raises:
        GpuCheckError: a loss is missing or not finite.
    """
    from transformers import PrinterCallback, Trainer, TrainingArguments

    from helpers.device import trainer_flags

    args = TrainingArguments(output_dir=str(output_dir), max_steps=steps, per_device_train_batch_size=2,
                             learning_rate=1e-3, logging_steps=1, save_strategy="no", report_to="none",
                             disable_tqdm=True, use_cpu=device.type == "cpu", seed=0,
                             **trainer_flags(mixed_precision))
    trainer = Trainer(model=model, args=args, train_dataset=examples)
    trainer.remove_callback(PrinterCallback)  # the losses go into the table, not one dict per step on stdout
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    if len(losses) != steps or not all(math.isfinite(loss) for loss in losses):
        raise GpuCheckError(f"expected {steps} finite losses, got {losses}")
    return losses


def check_lora_steps(model_dir: str | Path, device: torch.device, mixed_precision: str, *, steps: int = 3) -> str:
    """LoRA adapters on the float32 tiny model, ``steps`` ``Trainer`` steps in ``mixed_precision``."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32), _lora_config())
    with tempfile.TemporaryDirectory(prefix="gpu-check-lora-") as out:
        losses = train_steps(model, training_examples(model.config.vocab_size), device, mixed_precision, steps, out)
    return f"{steps} steps ({training_label(mixed_precision)}), loss {losses[0]:.3f} -> {losses[-1]:.3f}"


def check_qlora_step(model_dir: str | Path, device: torch.device, mixed_precision: str,
                     compute_dtype: torch.dtype) -> str:
    """The 4-bit tiny model, ``prepare_model_for_kbit_training`` (gradient checkpointing on), LoRA, one step."""
    from peft import get_peft_model, prepare_model_for_kbit_training

    model = load_quantized(model_dir, 4, device, compute_dtype)
    with warnings.catch_warnings():  # peft 0.21 calls transformers 5's deprecated gradient-checkpointing names
        warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*deprecated.*")
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, _lora_config())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    with tempfile.TemporaryDirectory(prefix="gpu-check-qlora-") as out:
        losses = train_steps(model, training_examples(model.config.vocab_size), device, mixed_precision, 1, out)
    return f"1 step ({training_label(mixed_precision)}), {trainable:,} trainable parameters, loss {losses[0]:.3f}"


def check_generate(model: Any, tokenizer: Any, device: torch.device, *, new_tokens: int = 8) -> str:
    """``new_tokens`` greedy tokens from :data:`PROMPT` with ``model`` on ``device``.

    Raises:
        GpuCheckError: a different number of new tokens came back.
    """
    model = model.to(device).eval()
    inputs = tokenizer(PROMPT, return_tensors="pt").to(device)
    started = time.perf_counter()
    output = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                            pad_token_id=tokenizer.pad_token_id)
    seconds = time.perf_counter() - started
    made = output.shape[1] - inputs["input_ids"].shape[1]
    if made != new_tokens:
        raise GpuCheckError(f"generate made {made} new tokens, not {new_tokens}")
    return f"{new_tokens} greedy tokens in {seconds * 1000:.0f} ms ({new_tokens / seconds:.0f} tokens/s)"


def check_memory(model_dir: str | Path, device: torch.device, mixed_precision: str) -> str:
    """Peak memory of one LoRA training step (forward, backward, AdamW) of the tiny model, autocast as decided.

    ``helpers.challenge.memory_probe`` measures SmolLM2 loaded in a child process, so this measures the step in this
    process with :func:`helpers.memory.peak_memory` (CUDA: ``torch.cuda.max_memory_allocated``; CPU: resident set).

    Raises:
        GpuCheckError: the step added no memory (the measurement saw nothing).
    """
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from helpers.device import autocast_dtype
    from helpers.memory import format_bytes, peak_memory

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device)
    model = get_peft_model(model, _lora_config()).train()
    batch = {k: torch.stack([e[k] for e in training_examples(model.config.vocab_size)]).to(device)
             for k in ("input_ids", "attention_mask", "labels")}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    autocast = autocast_dtype(mixed_precision)
    with peak_memory(device) as memory:
        with torch.autocast(device.type, dtype=autocast or torch.float32, enabled=autocast is not None):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if memory.increase_bytes <= 0:
        raise GpuCheckError(f"the step added no memory ({memory.method}): the measurement saw nothing")
    return (f"peak {format_bytes(memory.peak_bytes)}, step added {format_bytes(memory.increase_bytes)} "
            f"({memory.method}; memory_probe is SmolLM2-only)")


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One line of the table: the step, ``"ok"`` or ``"FAIL"``, its wall-clock seconds and what it found."""

    step: str
    result: str
    seconds: float
    detail: str


def run_step(step: str, function: Callable[[], str]) -> Row:
    """Run one step; an exception becomes a ``FAIL`` row with its first line (no traceback)."""
    started = time.perf_counter()
    try:
        detail, result = function(), "ok"
    except Exception as err:  # every failure is a row of the table, not a traceback
        detail, result = _first_line(err), "FAIL"
    return Row(step, result, round(time.perf_counter() - started, 2), detail)


def format_table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width text table with a header (step, result, seconds, detail)."""
    width = max([len("step"), *(len(r.step) for r in rows)])
    lines = [f"{'step':<{width}}  result  seconds  detail"]
    lines += [f"{r.step:<{width}}  {r.result:<6}  {r.seconds:>7.2f}  {r.detail}" for r in rows]
    return "\n".join(lines)


def run_gpu_check(find_links: str | Path = WHEELS_DIR) -> list[Row]:
    """Every step on this machine's accelerator, in order; later steps reuse what earlier ones made."""
    state: dict[str, Any] = {}
    rows: list[Row] = []

    def precision() -> str:
        state["info"], detail = check_precision()
        return detail

    def tokenizer() -> str:
        state["tokenizer"], source = load_tokenizer()
        return source

    with tempfile.TemporaryDirectory(prefix="gpu-check-model-") as folder:

        def model() -> str:
            save_tiny_llama(folder, state["tokenizer"])
            state["saved"] = True
            return "tiny Llama (hidden 64, 2 blocks) saved to a temporary folder"

        rows.append(run_step("precision", precision))
        rows.append(run_step("tokenizer", tokenizer))
        if "info" not in state or "tokenizer" not in state:
            return rows
        info = state["info"]
        rows.append(run_step("tiny model", model))
        rows.append(run_step("bitsandbytes", lambda: ensure_bitsandbytes(find_links)))
        if "saved" not in state:
            return rows
        compute = info.compute_dtype
        rows.append(run_step("load 8-bit", lambda: check_quantized_load(folder, 8, info.device, compute)))
        rows.append(run_step("load 4-bit", lambda: check_quantized_load(folder, 4, info.device, compute)))
        rows.append(run_step("LoRA 3 steps", lambda: check_lora_steps(folder, info.device, info.mixed_precision)))
        rows.append(run_step("QLoRA step",
                             lambda: check_qlora_step(folder, info.device, info.mixed_precision, compute)))
        rows.append(run_step("generate", lambda: check_generate(tiny_llama(state["tokenizer"]), state["tokenizer"],
                                                                info.device)))
        rows.append(run_step("memory", lambda: check_memory(folder, info.device, info.mixed_precision)))
    return rows


# --------------------------------------------------------------------------- make gpu-wheels


def pinned_version(package: str, requirements: str | Path = REQUIREMENTS) -> str:
    """The ``package==VERSION`` pin of ``requirements`` (case and ``-``/``_`` insensitive).

    Raises:
        ValueError: the file does not pin ``package``.
    """
    from packaging.utils import canonicalize_name

    from helpers.pins import pin_lines

    for name, version in pin_lines(Path(requirements)):
        if canonicalize_name(name) == canonicalize_name(package):
            return version
    raise ValueError(f"{requirements} does not pin {package} (no '{package}==VERSION' line).")


def folder_bytes(folder: str | Path) -> int:
    """Bytes of the files in ``folder`` and below (apparent sizes); 0 when it does not exist."""
    root = Path(folder)
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def wheels_command(folder: str | Path, version: str) -> list[str]:
    """``pip download`` of bitsandbytes ``version``'s Linux x86-64 wheel into ``folder`` (no dependencies)."""
    return [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
            "--only-binary=:all:", "--platform", WHEEL_PLATFORM, f"bitsandbytes=={version}", "-d", str(folder)]


def fill_wheels(folder: str | Path = WHEELS_DIR, *, limit_bytes: int = WHEELS_LIMIT_BYTES,
                run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> list[Path]:
    """Download what ``make gpu-check`` needs beyond torch, transformers and peft into ``folder``.

    That is bitsandbytes' wheel at the ``requirements.txt`` pin (43 MB for 0.50.2). The workshop's own code is not
    packed: it travels with the repository, and ``PYTHONPATH=.`` makes ``helpers`` and ``checks`` importable.

    Args:
        folder: where the wheels go (created).
        limit_bytes: most bytes the folder may hold, before and after the download.
        run: ``subprocess.run`` (tests pass a fake).

    Returns:
        The wheel files in ``folder``.

    Raises:
        ValueError: the folder holds more than ``limit_bytes`` (before or after), or pip failed.
    """
    folder = Path(folder)
    if folder_bytes(folder) > limit_bytes:
        raise ValueError(f"{folder} already holds {folder_bytes(folder) / 1e6:.1f} MB, over the "
                         f"{limit_bytes / 1e6:.0f} MB limit: empty it and run make gpu-wheels again.")
    folder.mkdir(parents=True, exist_ok=True)
    done = run(wheels_command(folder, pinned_version("bitsandbytes")), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise ValueError(f"pip download failed (exit code {done.returncode}): {tail[0]}")
    size = folder_bytes(folder)
    if size > limit_bytes:
        raise ValueError(f"{folder} now holds {size / 1e6:.1f} MB, over the {limit_bytes / 1e6:.0f} MB limit: "
                         "remove what is not bitsandbytes' wheel.")
    return sorted(folder.glob("*.whl"))


# --------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m checks.bench.gpu_check [--find-links DIR]`` or ``--wheels DIR``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m checks.bench.gpu_check",
                                     description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("--wheels", type=Path, metavar="DIR",
                        help="download bitsandbytes' Linux x86-64 wheel (the pinned version) into DIR and stop")
    parser.add_argument("--find-links", type=Path, default=WHEELS_DIR, metavar="DIR",
                        help=f"where to install bitsandbytes from when it is missing (default {WHEELS_DIR})")
    args = parser.parse_args(argv)
    if args.wheels is not None:
        try:
            wheels = fill_wheels(args.wheels)
        except ValueError as err:
            print(f"error: {err}")
            return 1
        print(f"{args.wheels}: {', '.join(w.name for w in wheels)} ({folder_bytes(args.wheels) / 1e6:.1f} MB)")
        return 0
    if not torch.cuda.is_available():
        print(NO_GPU_LINE)
        return 0
    from helpers.env import quiet_libraries

    quiet_libraries(with_datasets=False)
    started = time.perf_counter()
    rows = run_gpu_check(args.find_links)
    print(format_table(rows))
    failed = [r.step for r in rows if r.result != "ok"]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} steps ok in {time.perf_counter() - started:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
