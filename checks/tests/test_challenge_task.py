"""The LoRA challenge's task definition: schema, answer format, parsing, loading and scoring."""

from __future__ import annotations

import inspect
import json
import socket
from pathlib import Path

import pytest

from helpers.challenge import task
from helpers.paths import REPO_ROOT

RECORD = {"intent": "refund", "product": "laptop", "order_id": "AB-12345", "urgent": False}
ANSWER = '{"intent":"refund","product":"laptop","order_id":"AB-12345","urgent":false}'


def test_schema_constants():
    assert task.FIELDS == ("intent", "product", "order_id", "urgent")
    assert tuple(task.ALLOWED) == task.FIELDS
    assert task.ALLOWED["intent"] == (
        "refund", "delivery_status", "cancel_order", "change_address", "product_question", "complaint")
    assert task.ALLOWED["product"] == (
        "laptop", "phone", "headphones", "keyboard", "monitor", "charger", "tablet", "smartwatch")
    assert task.SPLITS == ("train", "validation", "test")
    assert task.DATA_DIR == REPO_ROOT / "data" / "tickets"


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("order_id", "ZX-00001", True), ("order_id", None, True), ("order_id", "ab-12345", False),
    ("order_id", "AB12345", False), ("order_id", "AB-123456", False), ("order_id", " AB-12345", False),
    ("urgent", True, True), ("urgent", 1, False), ("urgent", "true", False),
    ("intent", "refund", True), ("intent", "Refund", False), ("product", "notebook", False),
])
def test_is_allowed(field, value, ok):
    assert task.is_allowed(field, value) is ok


def test_system_prompt_is_one_short_instruction():
    assert len(task.SYSTEM_PROMPT.split()) <= 16
    assert "JSON" in task.SYSTEM_PROMPT and all(f in task.SYSTEM_PROMPT for f in task.FIELDS)


def test_format_record_is_compact_json_in_field_order():
    shuffled = {"urgent": False, "message": "ignored", "order_id": "AB-12345", "product": "laptop",
                "intent": "refund"}
    assert task.format_record(shuffled) == ANSWER
    assert task.format_record({**RECORD, "order_id": None, "urgent": True}).endswith('"order_id":null,"urgent":true}')


@pytest.mark.parametrize(("change", "match"), [
    ({"intent": "return"}, "intent='return' is not allowed: use one of 'refund'"),
    ({"product": "notebook"}, "product='notebook' is not allowed"),
    ({"order_id": "ab-12345"}, r"order_id='ab-12345'.*\^\[A-Z\]\{2\}-\\d\{5\}\$"),
    ({"order_id": 12345}, "order_id=12345 is not allowed"),
    ({"urgent": 1}, "urgent=1 is not allowed: use the booleans"),
    ({"urgent": "false"}, "urgent='false'"),
])
def test_format_record_rejects_values_outside_the_schema(change, match):
    with pytest.raises(ValueError, match=match):
        task.format_record({**RECORD, **change})


def test_format_record_names_missing_fields():
    with pytest.raises(ValueError, match=r"missing field\(s\) \['urgent'\]"):
        task.format_record({k: v for k, v in RECORD.items() if k != "urgent"})


def test_to_messages():
    prompt = task.to_messages("Where is my phone?")
    assert prompt == [{"role": "system", "content": task.SYSTEM_PROMPT},
                      {"role": "user", "content": "Where is my phone?"}]
    full = task.to_messages("I want a refund for the laptop.", RECORD)
    assert full[:1] == prompt[:1] and full[2] == {"role": "assistant", "content": ANSWER}
    with pytest.raises(ValueError):
        task.to_messages("hi", {**RECORD, "product": "tv"})


@pytest.mark.parametrize("text", [
    ANSWER,
    f"```json\n{ANSWER}\n```",
    f"Here is the record: {ANSWER} Let me know if you need more.",
    f"{{not json}} {ANSWER}",
    f"[{ANSWER}]",
])
def test_parse_prediction_finds_the_first_json_object(text):
    assert task.parse_prediction(text) == RECORD


@pytest.mark.parametrize("text", [
    "", "refund", "[1, 2]", '"refund"', "{'intent': 'refund'}", '{"intent": "refund",', "{intent: refund}",
    '{"urgent": True}',
])
def test_parse_prediction_none_without_a_valid_json_object(text):
    assert task.parse_prediction(text) is None


def test_parse_prediction_takes_the_first_of_two_objects():
    assert task.parse_prediction('{"a": 1} {"b": 2}') == {"a": 1}
    assert task.parse_prediction('{"a": {"b": 2}}') == {"a": {"b": 2}}


def test_round_trip_on_every_ticket():
    for split in task.SPLITS:
        for line in task.split_path(split).read_text("utf-8").splitlines():
            row = json.loads(line)
            assert task.parse_prediction(task.format_record(row)) == {f: row[f] for f in task.FIELDS}


def test_metric_path_resolves_inside_the_repo():
    path = Path(task.metric_path("json_extraction"))
    assert path.is_file() and path.is_relative_to(REPO_ROOT / "helpers" / "challenge" / "metrics")
    with pytest.raises(FileNotFoundError, match=r"available: \['json_extraction'"):
        task.metric_path("accuracy_typo")


def test_metric_loads_offline_without_network_or_noise(monkeypatch, capfd):
    import evaluate

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    metric = evaluate.load(task.metric_path("json_extraction"))
    result = metric.compute(predictions=[ANSWER], references=[ANSWER])
    assert result == {"exact_match": 1.0, "valid_json": 1.0, "field_accuracy": dict.fromkeys(task.FIELDS, 1.0)}
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_metric_parses_like_parse_prediction():
    module = inspect.getmodule(type(task.load_metric()))  # the metric's module, as evaluate loaded it
    for text in (ANSWER, f"x {ANSWER} y", "{bad} {\"a\": 1}", "[1]", "", "{'a': 1}", '{"a": {"b": [1]}}'):
        assert module.first_json_object(text) == task.parse_prediction(text), text


def test_score_perfect():
    refs = [RECORD, {**RECORD, "order_id": None, "urgent": True}]
    assert task.score([task.format_record(r) for r in refs], refs) == {
        "exact_match": 1.0, "valid_json": 1.0, "field_accuracy": dict.fromkeys(task.FIELDS, 1.0)}


def test_score_hand_made_predictions():
    refs = [RECORD] * 4 + [{**RECORD, "order_id": None, "urgent": True}]
    predictions = [
        ANSWER.replace('"laptop"', '"phone"'),                          # one wrong field
        "not JSON at all",                                             # invalid
        f"Sure! Here it is:\n```json\n{ANSWER}\n```\nAnything else?",  # extra text around: still exact
        ANSWER.replace("AB-12345", "ab-12345").replace("false", "0"),  # case and type are strict
        '{"intent":"refund","product":"laptop","urgent":true,"extra":1}',  # order_id key missing
    ]
    result = task.score(predictions, refs)
    assert result["exact_match"] == pytest.approx(1 / 5)
    assert result["valid_json"] == pytest.approx(4 / 5)
    assert result["field_accuracy"] == pytest.approx(
        {"intent": 4 / 5, "product": 3 / 5, "order_id": 2 / 5, "urgent": 3 / 5})


def test_score_accepts_dataset_rows_and_checks_its_inputs():
    row = {"message": "Where is my laptop?", **RECORD}
    assert task.score([ANSWER], [row])["exact_match"] == 1.0
    with pytest.raises(ValueError, match="got 2 predictions for 1 references"):
        task.score([ANSWER, ANSWER], [RECORD])
    with pytest.raises(ValueError, match="nothing to score"):
        task.score([], [])
    with pytest.raises(ValueError, match="product='tv'"):
        task.score([ANSWER], [{**RECORD, "product": "tv"}])


def test_load_splits_offline(monkeypatch, capfd):
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("network access attempted"))
    ds = task.load_splits()
    assert {s: ds[s].num_rows for s in ds} == {"train": 240, "validation": 60, "test": 100}
    assert ds["train"].column_names == ["message", *task.FIELDS]
    assert ds["test"].features["urgent"].dtype == "bool"
    first = json.loads(task.split_path("train").read_text("utf-8").splitlines()[0])
    assert ds["train"][0] == first
    assert sum(r is None for r in ds["validation"]["order_id"]) == 18
    assert "Generating" not in capfd.readouterr().err  # no progress bars


def test_load_splits_missing_files_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"test\.jsonl.*python -m checks\.authoring\.tickets"):
        task.load_splits(("test",), data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown split"):
        task.load_splits(("dev",))


@pytest.mark.slow
def test_training_examples_are_short():
    """Full training examples (chat template with the answer) stay under 110 SmolLM2 tokens."""
    from transformers import AutoTokenizer

    from helpers.models import CHAT_MODEL_ID

    tokenizer = AutoTokenizer.from_pretrained(CHAT_MODEL_ID)
    assert len(tokenizer(task.SYSTEM_PROMPT).input_ids) < 40
    lengths = [len(tokenizer.apply_chat_template(task.to_messages(r["message"], r), tokenize=True))
               for r in task.load_splits()["train"]]
    assert max(lengths) < 110
