"""The LoRA challenge's task: turn a customer-support message into a fixed JSON record.

One definition shared by the challenge notebook, its grader and the training script::

    from helpers.challenge.task import load_splits, to_messages, score

    splits = load_splits()                          # DatasetDict: train 240, validation 60, test 100
    row = splits["train"][0]                        # {"message": ..., "intent": ..., ...}
    chat = to_messages(row["message"], row)         # system + user + assistant answer
    score(['{"intent":"refund",...}'], [row])       # {"exact_match": ..., "valid_json": ..., ...}

The record has four fields (:data:`FIELDS`) whose allowed values are the interface
(:data:`ALLOWED`); the answer is compact JSON with the keys in that order
(:func:`format_record`). Scoring is exact and goes through the ``evaluate`` library
with the local metric module ``helpers/challenge/metrics/json_extraction`` (``evaluate.load("accuracy")``
and other Hub metrics do not load offline).

The tickets are synthetic, written by ``python -m checks.authoring.tickets`` (seeded,
byte-for-byte reproducible) into :data:`DATA_DIR`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.env import progress_bars_off
from helpers.paths import METRICS_DIR, TICKETS_DIR

if TYPE_CHECKING:
    import evaluate
    from datasets import DatasetDict

FIELDS: tuple[str, ...] = ("intent", "product", "order_id", "urgent")
"""Field names of the record, in the order of the canonical answer."""

INTENTS: tuple[str, ...] = (
    "refund", "delivery_status", "cancel_order", "change_address", "product_question", "complaint",
)
PRODUCTS: tuple[str, ...] = (
    "laptop", "phone", "headphones", "keyboard", "monitor", "charger", "tablet", "smartwatch",
)
ORDER_ID_PATTERN = re.compile(r"[A-Z]{2}-\d{5}")
"""An order id: two upper-case letters, a hyphen, five digits (``"AB-12345"``); matched in full."""

ALLOWED: dict[str, tuple[Any, ...] | re.Pattern[str]] = {
    "intent": INTENTS,
    "product": PRODUCTS,
    "order_id": ORDER_ID_PATTERN,
    "urgent": (True, False),
}
"""Allowed values per field. ``intent``, ``product`` and ``urgent`` list them (``urgent``
is a JSON boolean, not ``0``/``1`` or a string); ``order_id`` is either ``None`` (JSON
``null``, the message gives no order id) or a string matching :data:`ORDER_ID_PATTERN`
in full, in upper case even when the customer typed ``ab-12345``."""

SPLITS: tuple[str, ...] = ("train", "validation", "test")
DATA_DIR: Path = TICKETS_DIR
"""Folder of the JSON Lines files ``<split>.jsonl``, one ticket per line."""

SYSTEM_PROMPT = "Extract intent, product, order_id and urgent from the message. Answer with JSON only."
"""The system instruction (19 SmolLM2 tokens: training runs on a CPU, so sequences stay short)."""

JSON_SEPARATORS = (",", ":")
"""``json.dumps`` separators of the canonical answer: compact, no spaces (6 tokens fewer per answer)."""

MAX_NEW_TOKENS = 34
"""Generation budget of an answer, in tokens: the canonical answers are 23-33 SmolLM2 tokens including
``<|im_end|>`` (all 400 tickets), so 34 leaves one spare and stops a rambling base model early."""


def is_allowed(field: str, value: Any) -> bool:
    """Whether ``value`` is an allowed value of ``field`` (type-strict: ``1`` is not ``True``).

    Raises:
        KeyError: ``field`` is not one of :data:`FIELDS`.
    """
    allowed = ALLOWED[field]
    if field == "order_id":
        return value is None or (isinstance(value, str) and ORDER_ID_PATTERN.fullmatch(value) is not None)
    if field == "urgent":
        return isinstance(value, bool)
    return isinstance(value, str) and value in allowed


def format_record(record: Mapping[str, Any]) -> str:
    """The canonical answer for ``record``: compact JSON, keys in :data:`FIELDS` order.

    Example: ``{"intent":"refund","product":"laptop","order_id":"AB-12345","urgent":false}``
    (separators :data:`JSON_SEPARATORS`, ASCII only).

    Args:
        record: a mapping with at least the four :data:`FIELDS`; other keys (such as
            a dataset row's ``"message"``) are ignored.

    Raises:
        ValueError: a field is missing or holds a value outside :data:`ALLOWED`; the
            message names the field and what is allowed.
    """
    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise ValueError(f"record is missing field(s) {missing}; a record needs {list(FIELDS)}.")
    for field in FIELDS:
        value = record[field]
        if not is_allowed(field, value):
            raise ValueError(f"{field}={value!r} is not allowed: {_describe_allowed(field)}.")
    return json.dumps({f: record[f] for f in FIELDS}, separators=JSON_SEPARATORS)


def _describe_allowed(field: str) -> str:
    if field == "order_id":
        return f"use None or a string matching ^{ORDER_ID_PATTERN.pattern}$ (upper case), e.g. 'AB-12345'"
    if field == "urgent":
        return "use the booleans True or False"
    return "use one of " + ", ".join(repr(v) for v in ALLOWED[field])


def to_messages(message: str, record: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """The chat for one ticket, ready for ``tokenizer.apply_chat_template``.

    Args:
        message: the customer's message.
        record: its record; when given, the assistant's answer (:func:`format_record`)
            is appended, for training. Leave it out to build a prompt (then pass
            ``add_generation_prompt=True`` to the chat template).

    Returns:
        ``[{"role": "system", ...}, {"role": "user", ...}]`` plus
        ``{"role": "assistant", ...}`` when ``record`` is given.

    Raises:
        ValueError: ``record`` holds a value outside :data:`ALLOWED` (see :func:`format_record`).
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": message}]
    if record is not None:
        messages.append({"role": "assistant", "content": format_record(record)})
    return messages


def parse_prediction(text: str) -> dict[str, Any] | None:
    """The first JSON object (``{...}``) in a model's answer, or ``None``.

    Text around the object (a Markdown code fence, "Here is the JSON:") is skipped;
    the object itself must be valid JSON (double quotes, ``true``/``false``/``null``).
    Its values are not checked against :data:`ALLOWED`.

    Args:
        text: the decoded answer (new tokens only).

    Returns:
        The parsed ``dict``, or ``None`` when the text holds no valid JSON object.
    """
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    return None


def split_path(split: str, data_dir: str | Path | None = None) -> Path:
    """The JSON Lines file of ``split`` (``<data_dir>/<split>.jsonl``; default :data:`DATA_DIR`)."""
    return Path(data_dir if data_dir is not None else DATA_DIR) / f"{split}.jsonl"


def load_splits(splits: Sequence[str] = SPLITS, data_dir: str | Path | None = None) -> DatasetDict:
    """Load the tickets with ``datasets.load_dataset("json", ...)`` from the local files (offline).

    Args:
        splits: split names among :data:`SPLITS`.
        data_dir: folder holding ``<split>.jsonl``; default :data:`DATA_DIR`.

    Returns:
        A ``DatasetDict`` with one ``Dataset`` per split and the columns ``message``
        (str), ``intent`` (str), ``product`` (str), ``order_id`` (str or None) and
        ``urgent`` (bool).

    Raises:
        ValueError: an unknown split name.
        FileNotFoundError: a split file is missing; the message says to run
            ``python -m checks.authoring.tickets``.
    """
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ValueError(f"unknown split(s) {unknown}: choose from {list(SPLITS)}.")
    files = {s: split_path(s, data_dir) for s in splits}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"ticket file(s) not found: {', '.join(missing)}. "
            "Write them with `python -m checks.authoring.tickets` (from the repository root)."
        )
    import datasets

    with progress_bars_off():  # "Generating train split" bars are noise for 400 short lines
        return datasets.load_dataset("json", data_files={s: str(p) for s, p in files.items()})


def metric_path(name: str) -> str:
    """Path of the local ``evaluate`` metric module ``name``, for ``evaluate.load(path)``.

    Args:
        name: module name, e.g. ``"json_extraction"``.

    Returns:
        ``<repo>/helpers/challenge/metrics/<name>/<name>.py`` as a string.

    Raises:
        FileNotFoundError: no such module; the message lists the available ones.
    """
    path = METRICS_DIR / name / f"{name}.py"
    if not path.is_file():
        available = sorted(p.parent.name for p in METRICS_DIR.glob("*/*.py") if p.stem == p.parent.name)
        raise FileNotFoundError(f"no local metric {name!r} at {path}; available: {available}.")
    return str(path)


@functools.cache
def load_metric(name: str = "json_extraction") -> evaluate.EvaluationModule:
    """``evaluate.load`` of the local metric module ``name`` (loaded once per process, offline)."""
    import evaluate

    return evaluate.load(metric_path(name))


def score(predictions: Sequence[str], references: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Exact scores of predicted answers against reference records, through ``evaluate``.

    A prediction is parsed like :func:`parse_prediction`; it counts for exact match
    only when it parses and all four fields equal the reference's (type-strict:
    ``"AB-12345"`` is not ``"ab-12345"``, ``1`` is not ``true``). Extra keys are ignored.

    Args:
        predictions: the model's decoded answers, one string per ticket.
        references: the tickets' records (dataset rows work: extra keys are ignored),
            in the same order.

    Returns:
        ``{"exact_match": float, "valid_json": float, "field_accuracy": {field: float}}``,
        fractions in [0, 1]; ``valid_json`` is the share of predictions holding a JSON object.

    Raises:
        ValueError: the two lists differ in length or are empty, or a reference holds
            a value outside :data:`ALLOWED`.
    """
    predictions = list(predictions)
    refs = [format_record(r) for r in references]
    if len(predictions) != len(refs):
        raise ValueError(f"got {len(predictions)} predictions for {len(refs)} references.")
    if not refs:
        raise ValueError("nothing to score: predictions and references are empty.")
    return load_metric("json_extraction").compute(predictions=predictions, references=refs)

