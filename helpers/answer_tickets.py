"""Answer customer messages with the challenge's fine-tuned adapter: one JSON line per message.

    python -m helpers.answer_tickets "Where is my order AB-12345? The laptop is late."
    python -m helpers.answer_tickets --adapter outputs/challenge/adapter-qlora < messages.txt

Loads SmolLM2-135M-Instruct plus the LoRA adapter saved by 04 · LoRA challenge
(``PeftModel.from_pretrained``; default :data:`helpers.lora_training.ADAPTER_DIR`) and prints,
for each message in order, the record the model extracted (compact JSON), or
``{"error": ..., "answer": ...}`` when its answer holds no JSON object. Without message
arguments it reads one message per line from standard input (blank lines are skipped).

Exit codes: 0 on success; 2 when the adapter folder is missing (run the challenge notebook
first) or there is no message.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from helpers.extraction_task import JSON_SEPARATORS, parse_prediction
from helpers.lora_training import ADAPTER_DIR, GENERATION_BATCH_SIZE, MAX_NEW_TOKENS

ADAPTER_CONFIG = "adapter_config.json"


class UsageError(Exception):
    """Something the user can fix; the message says what (exit code 2, no traceback)."""


def check_adapter(adapter_dir: str | Path) -> Path:
    """The adapter folder, after checking it holds a saved adapter.

    Raises:
        UsageError: no ``adapter_config.json`` in ``adapter_dir``; the message says to run
            the challenge notebook first.
    """
    folder = Path(adapter_dir)
    if not (folder / ADAPTER_CONFIG).is_file():
        what = "does not exist" if not folder.exists() else f"holds no {ADAPTER_CONFIG}"
        raise UsageError(
            f"No LoRA adapter found: {folder} {what}. Run the challenge notebook "
            "(04 · LoRA challenge) first; its training cell saves the adapter there. "
            "Or pass --adapter DIR to use another adapter folder."
        )
    return folder


def read_messages(arguments: Sequence[str], stdin: TextIO) -> list[str]:
    """Messages from the command line, else one per non-blank line of ``stdin``.

    Raises:
        UsageError: no message at all.
    """
    messages = [m for m in arguments if m.strip()] or [line.strip() for line in stdin if line.strip()]
    if not messages:
        raise UsageError("No message to answer: pass messages as arguments or one per line on standard input.")
    return messages


def format_answer(answer: str) -> str:
    """One output line: the parsed record as compact JSON, or an error object holding the raw answer."""
    record = parse_prediction(answer)
    if record is None:
        return json.dumps({"error": "the answer holds no JSON object", "answer": answer})
    return json.dumps(record, separators=JSON_SEPARATORS)


def load_model(adapter_dir: str | Path, model_path: str | None = None):
    """Tokenizer and base model with the adapter (frozen, eval mode) on the best device.

    Returns:
        ``(model, tokenizer)``; ``model`` is a ``PeftModel``.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helpers.device import pick_device, pick_dtype
    from helpers.models import CHAT_MODEL_ID, resolve_model
    from helpers.noise import progress_bars_off, quiet_libraries

    quiet_libraries()
    path = model_path or resolve_model(CHAT_MODEL_ID)
    device = pick_device()
    tokenizer = AutoTokenizer.from_pretrained(path)
    with progress_bars_off():
        base = AutoModelForCausalLM.from_pretrained(path, dtype=pick_dtype(device)).to(device)
    model = PeftModel.from_pretrained(base, str(adapter_dir))
    return model.eval(), tokenizer


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m helpers.answer_tickets``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m helpers.answer_tickets",
                                     description="Extract a JSON record from each customer message.")
    parser.add_argument("messages", nargs="*", metavar="MESSAGE",
                        help="customer messages (default: one per line on standard input)")
    parser.add_argument("--adapter", type=Path, default=ADAPTER_DIR, help=f"adapter folder (default {ADAPTER_DIR})")
    parser.add_argument("--max-new-tokens", type=int, default=MAX_NEW_TOKENS)
    parser.add_argument("--batch-size", type=int, default=GENERATION_BATCH_SIZE)
    args = parser.parse_args(argv)
    try:
        adapter = check_adapter(args.adapter)
        messages = read_messages(args.messages, sys.stdin)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from helpers.lora_training import generate_answers

    model, tokenizer = load_model(adapter)
    answers = generate_answers(model, tokenizer, messages, batch_size=args.batch_size,
                               max_new_tokens=args.max_new_tokens)
    for answer in answers:
        print(format_answer(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
