"""The challenge grader's runs of the learner's inference script (Bonus C), and the answers it compares them with.

The script check starts the script in a new Python process with ``--adapter`` and new messages
(:func:`run_script`), generates the same answers itself with the same adapter (:func:`grader_answers`), and repeats
both with a control adapter (:func:`save_control_adapter`) so that a script which ignores ``--adapter`` cannot pass.
Printed lines and the grader's answers are compared by their record's fields (:func:`answer_key`, :func:`differences`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from checks.grader import expect
from checks.parts.challenge_scoring import fresh_base, grader_tokenizer
from helpers.challenge.task import MAX_NEW_TOKENS

SCRIPT_TIMEOUT_S = 180
"""Seconds for one run of the script: the solution's takes 8 s on a 2-core CPU (start, model, five answers)."""


class AdapterError(ValueError):
    """The grader cannot use the adapter folder (the check adds its pointer to the adapter check)."""


def run_script(script: Path, adapter: Path, messages: Sequence[str], when: str = "") -> list[str]:
    """The script's non-empty output lines for ``messages``, run with ``--adapter adapter``.

    A new Python process (standard input closed, the Hub offline), at most :data:`SCRIPT_TIMEOUT_S` seconds;
    ``when`` ("with a different adapter (the grader's), ") starts the failure messages of a second run.

    Raises:
        CheckFailed: the script still raises NotImplementedError, exits with an error, runs too long or prints nothing.
    """
    try:
        done = subprocess.run([sys.executable, str(script), "--adapter", str(adapter), *messages],
                              capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, stdin=subprocess.DEVNULL,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    except subprocess.TimeoutExpired:
        expect(False, f"{when}the script did not answer {len(messages)} messages within {SCRIPT_TIMEOUT_S} s: "
                      "load the model once and answer them in one batch.")
    if done.returncode != 0 and "NotImplementedError" in done.stderr:
        expect(False, f"{script.name} still raises NotImplementedError: write load_model and answer.")
    expect(done.returncode == 0, f"{when}the script exited with {done.returncode}: {done.stderr.strip()[-300:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    expect(lines, f"{when}the script printed nothing.")
    return lines


def grader_answers(adapter: Path, messages: Sequence[str]) -> list[str]:
    """The grader's own greedy answers to ``messages`` with the adapter in ``adapter`` (about 3 s for five).

    Made as the script is asked to make them: a fresh fp32 base model on the CPU with the adapter loaded by
    ``PeftModel.from_pretrained`` (not merged), one left-padded batch of chat-template prompts, greedy, at most
    :data:`~helpers.challenge.task.MAX_NEW_TOKENS` new tokens decoded without special tokens, no autocast
    (:func:`helpers.challenge.training.generate_answers` without its bf16 autocast: the script runs in fp32).

    Raises:
        AdapterError: PEFT cannot load the adapter; the message names the folder and the first line of the error.
    """
    from peft import PeftModel

    from helpers.challenge.training import generate_answers

    try:
        model = PeftModel.from_pretrained(fresh_base(), str(adapter)).eval()
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise AdapterError(f"the grader cannot load the adapter in {adapter.name}/ "
                           f"({str(err).splitlines()[0][:200]})") from err
    return generate_answers(model, grader_tokenizer(), list(messages), batch_size=len(messages),
                            max_new_tokens=MAX_NEW_TOKENS, autocast=False)


def save_control_adapter(adapter: Path, folder: Path) -> None:
    """Save into ``folder`` the adapter of ``adapter`` with every ``lora_B`` weight set to zero.

    LoRA adds ``B @ A x`` to each adapted layer: with ``B = 0`` the control adapter answers exactly as the base model
    does (prose, where the trained adapter answers with a record). Its config is the learner's, so any script that
    loads the learner's adapter loads this one.

    Raises:
        AdapterError: the adapter holds no ``lora_B`` weight.
    """
    import shutil

    from safetensors.torch import load_file, save_file

    weights = load_file(str(adapter / "adapter_model.safetensors"))
    if not any("lora_B" in name for name in weights):
        raise AdapterError(f"the adapter in {adapter.name}/ holds no lora_B weight")
    save_file({name: torch.zeros_like(w) if "lora_B" in name else w for name, w in weights.items()},
              str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(adapter / "adapter_config.json", folder / "adapter_config.json")


def answer_key(text: str) -> tuple[Any, ...] | None:
    """What a printed line and the grader's answer must share: the record's :data:`~helpers.challenge.task.FIELDS`
    values, or ``None`` for text that holds no JSON object. The given script's error object for such an answer
    (``{"error": ..., "answer": <the model's text>}``) is read through to the model's text."""
    from helpers.challenge.task import FIELDS, parse_prediction

    record = parse_prediction(text)
    if record is not None and isinstance(record.get("answer"), str) and "error" in record \
            and not any(f in record for f in FIELDS):
        record = parse_prediction(record["answer"])
    return None if record is None else tuple(record.get(f) for f in FIELDS)


def is_valid_record(text: str) -> bool:
    """Whether ``text`` holds a JSON record whose intent, product and urgent are allowed values."""
    from helpers.challenge.task import is_allowed, parse_prediction

    record = parse_prediction(text)
    return record is not None and all(is_allowed(f, record.get(f)) for f in ("intent", "product", "urgent"))


def differences(messages: Sequence[str], printed: list[str], expected: list[str]) -> list[tuple[str, str, str]]:
    """``(message, printed line, grader's answer)`` for each of ``messages`` whose printed record is not the
    grader's; a message the script printed no line for counts as different (the lines are matched from the last one
    up)."""
    printed = [""] * (len(messages) - len(printed)) + printed[-len(messages):]
    return [(m, line, answer) for m, line, answer in zip(messages, printed, expected, strict=True)
            if not line or answer_key(line) != answer_key(answer)]
