"""The LoRA challenge's synthetic tickets: reproducible, valid, balanced and varied."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from helpers.challenge.task import DATA_DIR, FIELDS, INTENTS, ORDER_ID_PATTERN, PRODUCTS, SPLITS, is_allowed
from helpers.paths import REPO_ROOT

SIZES = {"train": 240, "validation": 60, "test": 100}
URGENCY_CUE = re.compile(r"asap|urgent|immediately|today|!!!", re.IGNORECASE)
ID_IN_TEXT = re.compile(r"\b[A-Za-z]{2}-\d{5}\b")


def _generator():
    from checks.authoring import tickets

    return tickets


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {s: [json.loads(line) for line in (DATA_DIR / f"{s}.jsonl").read_text("utf-8").splitlines()]
            for s in SPLITS}


@pytest.fixture(scope="module")
def rows(splits) -> list[dict]:
    return [row for s in SPLITS for row in splits[s]]


def _run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "checks.authoring.tickets", *args], check=True, capture_output=True,
                   cwd=REPO_ROOT)


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    _run("--out", str(tmp_path))
    for split in SPLITS:
        assert (tmp_path / f"{split}.jsonl").read_bytes() == (DATA_DIR / f"{split}.jsonl").read_bytes(), split


def test_another_seed_gives_other_tickets(tmp_path):
    _run("--seed", "1", "--out", str(tmp_path))
    assert (tmp_path / "train.jsonl").read_bytes() != (DATA_DIR / "train.jsonl").read_bytes()


def test_split_sizes(splits):
    assert {s: len(v) for s, v in splits.items()} == SIZES


def test_no_duplicate_messages_within_or_across_splits(rows):
    keys = [" ".join(r["message"].lower().split()) for r in rows]
    assert len(set(keys)) == len(keys) == 400


def test_every_record_follows_the_schema(rows):
    for row in rows:
        assert list(row) == ["message", *FIELDS]
        assert isinstance(row["message"], str) and row["message"] == row["message"].strip()
        bad = [f for f in FIELDS if not is_allowed(f, row[f])]
        assert not bad, (row, bad)


def test_order_id_follows_from_the_message(rows):
    for row in rows:
        mentioned = ID_IN_TEXT.findall(row["message"])
        if row["order_id"] is None:
            assert mentioned == [], row
        else:
            assert ORDER_ID_PATTERN.fullmatch(row["order_id"])
            assert [m.upper() for m in mentioned] == [row["order_id"]], row


def test_order_ids_are_written_in_several_ways(rows):
    with_id = [r for r in rows if r["order_id"]]
    assert sum(r["order_id"] not in r["message"] for r in with_id) >= 30  # typed in lower case
    assert sum("#" in r["message"] for r in with_id) >= 30
    early = Counter(r["message"].lower().find(r["order_id"].lower()) < 25 for r in with_id)
    assert min(early.values()) >= 60  # near the start of the message and later in it


def test_urgent_exactly_when_the_message_has_an_urgency_cue(rows):
    for row in rows:
        assert row["urgent"] == bool(URGENCY_CUE.search(row["message"])), row


def test_exactly_the_records_product_is_named(rows):
    synonyms = _generator().SYNONYMS
    assert set(synonyms) == set(PRODUCTS)
    for row in rows:
        named = {p for p, words in synonyms.items()
                 if any(re.search(rf"\b{re.escape(w)}\b", row["message"], re.IGNORECASE) for w in words)}
        assert named == {row["product"]}, row
    assert sum(r["product"] not in r["message"].lower() for r in rows) >= 100  # named by a synonym


@pytest.mark.parametrize("split", SPLITS)
def test_intents_and_products_are_balanced(splits, split):
    for field, values in (("intent", INTENTS), ("product", PRODUCTS)):
        counts = Counter(r[field] for r in splits[split])
        assert set(counts) == set(values)
        assert max(counts.values()) - min(counts.values()) <= 1, (field, counts)


@pytest.mark.parametrize("split", SPLITS)
def test_shares_of_missing_order_ids_and_urgent_tickets(splits, split):
    n = len(splits[split])
    assert sum(r["order_id"] is None for r in splits[split]) == round(0.30 * n)
    assert sum(r["urgent"] for r in splits[split]) == round(0.35 * n)


def test_messages_are_short(rows):
    words = [len(r["message"].split()) for r in rows]
    assert max(words) <= 32
    assert 10 <= sum(words) / len(words) <= 22


def test_messages_are_varied_not_one_template(rows):
    synonyms = _generator().SYNONYMS
    words = sorted({w for ws in synonyms.values() for w in ws}, key=len, reverse=True)
    product = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)

    def shape(message: str) -> str:
        return product.sub("<P>", ID_IN_TEXT.sub("<ID>", message)).lower()

    assert len({shape(r["message"]) for r in rows}) >= 380  # 400 tickets, masked products and ids
    assert len({r["message"].split()[0].lower().strip(",:") for r in rows}) >= 30
    for intent in INTENTS:  # several phrasings per intent: distinct first five words after masking
        openings = {" ".join(shape(r["message"]).split()[:5]) for r in rows if r["intent"] == intent}
        assert len(openings) >= 40, intent
    assert sum(r["message"] == r["message"].lower() for r in rows) >= 15  # all lower case
    assert sum("!!!" in r["message"] for r in rows) >= 15
