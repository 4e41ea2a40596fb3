"""Answer customer messages with your fine-tuned adapter: one JSON line per message (04 · LoRA challenge, Bonus C).

    python answer_tickets.py --adapter ../outputs/challenge/adapter "Where is order AB-12345? The laptop is late."
    python answer_tickets.py --adapter ../outputs/challenge/adapter < messages.txt

The argument parsing and the output format are given. You write the two functions marked
"YOUR CODE HERE": ``load_model`` (base model + adapter) and ``answer`` (greedy generation).
The grader runs this file on messages it has never shown you, once with your adapter and once with one of its
own, and compares each printed line with that adapter's own greedy answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import helpers  # noqa: F401  (first: the offline cache and HF_HUB_OFFLINE before any Hugging Face import)
from helpers.challenge.task import JSON_SEPARATORS, MAX_NEW_TOKENS, parse_prediction, to_messages

BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def load_model(adapter_dir: Path):
    """``(model, tokenizer)``: the base model with the LoRA adapter from ``adapter_dir`` on top, in eval mode."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # YOUR CODE HERE
    raise NotImplementedError("answer_tickets.py: write your code here, see the instructions above.")


def answer(model, tokenizer, messages: list[str]) -> list[str]:
    """The model's greedy answer to each message (new text only, special tokens removed)."""
    import torch

    # YOUR CODE HERE
    raise NotImplementedError("answer_tickets.py: write your code here, see the instructions above.")


# ----------------------------------------------------------------- given: command line and output format


def output_line(text: str) -> str:
    """The record as compact JSON, or an error object that keeps the model's raw answer."""
    record = parse_prediction(text)
    if record is None:
        return json.dumps({"error": "the answer holds no JSON object", "answer": text})
    return json.dumps(record, separators=JSON_SEPARATORS)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, answer every message, print one line each; returns the exit code."""
    parser = argparse.ArgumentParser(description="Extract a JSON record from each customer message.")
    parser.add_argument("messages", nargs="*", metavar="MESSAGE", help="default: one per line on standard input")
    parser.add_argument("--adapter", type=Path, required=True, help="folder of the saved LoRA adapter")
    args = parser.parse_args(argv)
    if not (args.adapter / "adapter_config.json").is_file():
        print(f"error: no adapter in {args.adapter}: run Task 3 of the challenge (model.save_pretrained) first.",
              file=sys.stderr)
        return 2
    messages = [m for m in args.messages if m.strip()] or [line.strip() for line in sys.stdin if line.strip()]
    if not messages:
        print("error: no message: pass messages as arguments or one per line on standard input.", file=sys.stderr)
        return 2
    model, tokenizer = load_model(args.adapter)
    for text in answer(model, tokenizer, messages):
        print(output_line(text), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
