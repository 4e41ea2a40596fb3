"""Write the synthetic customer-support tickets of the LoRA challenge (seeded, reproducible).

    python -m checks.authoring.tickets                  # data/tickets/{train,validation,test}.jsonl
    python -m checks.authoring.tickets --seed 1 --out /tmp/tickets

Each line is ``{"message": str, "intent": str, "product": str, "order_id": str | null,
"urgent": bool}`` (schema: ``helpers.challenge.task``). Messages are assembled from
several templates per intent plus random greetings, sign-offs, order-id mentions,
urgency cues, product synonyms, casing changes and occasional typos, so that the
record follows from the message alone:

* ``product``: exactly one product is named, possibly by a synonym ("notebook" -> laptop).
* ``order_id``: at most one id, written "AB-12345", "#AB-12345" or "ab-12345"; the
  record holds it in upper case, or null when the message gives none.
* ``urgent``: true exactly when the message has an urgency cue ("asap", "urgent",
  "today please", "immediately", "!!!", ...); calm messages never do.

The same seed writes the same bytes: one ``random.Random(seed)`` drives everything,
and splits are drawn in a fixed order without duplicate messages across them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from helpers.challenge.task import DATA_DIR, FIELDS, INTENTS, PRODUCTS, SPLITS, format_record

SPLIT_SIZES = {"train": 240, "validation": 60, "test": 100}
NULL_ORDER_SHARE = 0.30
URGENT_SHARE = 0.35
MAX_WORDS = 32  # keeps full training examples (chat template + answer) under about 110 tokens

SYNONYMS: dict[str, tuple[str, ...]] = {
    "laptop": ("laptop", "notebook", "ultrabook", "laptop computer"),
    "phone": ("phone", "cell", "cell phone", "smartphone", "mobile"),
    "headphones": ("headphones", "earbuds", "headset", "earphones"),
    "keyboard": ("keyboard", "mechanical keyboard", "wireless keyboard", "keyboard"),
    "monitor": ("monitor", "display", "computer screen", "27 inch monitor"),
    "charger": ("charger", "power adapter", "charging brick", "wall charger"),
    "tablet": ("tablet", "tab", "drawing tablet", "tablet"),
    "smartwatch": ("smartwatch", "smart watch", "fitness watch", "watch"),
}

# Body templates: {p} is the product phrase, {o} an order noun phrase ("order #AB-12345",
# or "my order" when the ticket has no id). Sentences end with "." or "?".
TEMPLATES: dict[str, tuple[str, ...]] = {
    "refund": (
        "I want a refund for the {p}.",
        "Please refund {o}, the {p} is not what I expected.",
        "How do I get my money back for the {p}?",
        "I returned the {p} two weeks ago and still have not been refunded.",
        "Can you refund me for the {p} from {o}?",
        "The {p} does not suit me, I would like my money back.",
        "Requesting a full refund on {o}, the {p}.",
        "I sent the {p} back, when will the refund reach my account?",
        "Refund for the {p} please, I changed my mind.",
        "I was charged twice for the {p} in {o}, please refund the extra payment.",
        "The {p} I got is faulty and I just want my money back.",
    ),
    "delivery_status": (
        "Where is my {p}?",
        "{O} with the {p} still has not arrived.",
        "Can you tell me when the {p} will be delivered?",
        "Tracking for the {p} has not updated in days, where is it?",
        "Any update on the shipping of {o}? It is the {p}.",
        "Has the {p} shipped yet?",
        "The {p} was supposed to arrive yesterday but nothing came.",
        "What is the delivery status of {o}? I bought the {p}.",
        "When will {o} arrive? I am waiting for the {p}.",
        "My {p} still shows in transit, is it lost?",
        "Could you check where the {p} from {o} is?",
    ),
    "cancel_order": (
        "Please cancel {o}, I do not need the {p} anymore.",
        "I want to cancel the {p} I ordered.",
        "Can I still cancel {o}? It is the {p}.",
        "Cancel my order for the {p} please.",
        "I ordered the {p} by mistake, please cancel it before it ships.",
        "I found the {p} cheaper elsewhere, so I would like to cancel {o}.",
        "How do I cancel {o}? I ordered the {p} but my plans changed.",
        "Stop {o} from shipping, I no longer want the {p}.",
        "Please do not send the {p}, cancel the whole order.",
        "Is it too late to cancel the {p}?",
    ),
    "change_address": (
        "I moved, can you ship the {p} to my new address?",
        "Please change the delivery address on {o}, the {p}.",
        "Wrong address on {o}, please update it before the {p} ships.",
        "Can the {p} be sent to my office instead of my home?",
        "I need to update the shipping address for the {p}.",
        "I typed my street wrong when I ordered the {p}, can you fix the address?",
        "Could you redirect {o} to {street}? It is the {p}.",
        "Is it possible to change where the {p} gets delivered?",
        "Please deliver the {p} in {o} to my parents' address instead.",
        "New address for the {p}: {street}.",
    ),
    "product_question": (
        "Does the {p} come with a warranty?",
        "Is the {p} compatible with a Mac?",
        "What colours is the {p} available in?",
        "Before I buy, how heavy is the {p}?",
        "What is included in the box with the {p}?",
        "Is there a student discount on the {p}?",
        "How long is the warranty on the {p} from {o}?",
        "I got the {p} from {o}, how do I reset it?",
        "Is the {p} in {o} the newest model?",
        "Can I use the {p} abroad?",
        "Does the {p} work with Windows and Linux?",
    ),
    "complaint": (
        "The {p} stopped working after two days, I am really disappointed.",
        "Your support team never answered my emails about the {p}.",
        "The {p} arrived scratched and the box was crushed.",
        "I am very unhappy with the quality of the {p}.",
        "The {p} from {o} keeps overheating, this is unacceptable.",
        "This is the second {p} that broke on me, terrible quality.",
        "The {p} in {o} was missing parts and nobody has helped me.",
        "Honestly the worst {p} I have ever owned.",
        "Your courier left the {p} in the rain and now it is damaged.",
        "I waited on hold for an hour about the {p} and got cut off.",
    ),
}

ORDER_PHRASES = ("order {id}", "order #{id}", "my order {id}", "order number {id}", "order no. {id}", "#{id}")
NO_ORDER_PHRASES = ("my order", "my recent order", "the order", "my last order")
ORDER_SENTENCES = (
    "Order #{id}.", "My order number is {id}.", "Order id: {id}.", "It was order {id}.", "Ref {id}.",
    "Order {id}.", "The order number is {id}.", "This is about order {id}.",
)
ORDER_PREFIXES = ("Re: order {id} - ", "[{id}] ", "Order {id}: ", "#{id} - ")
NO_ID_SENTENCES = (
    "I do not have the order number on me.", "I ordered it last week.", "I lost the order email.",
    "Bought it a month ago.",
)
URGENT_PREFIXES = ("URGENT: ", "Urgent - ", "ASAP: ", "urgent: ")
URGENT_SENTENCES = (
    "Please do it asap.", "I need this sorted today please.", "This is urgent.", "Please handle this immediately.",
    "Need an answer asap.", "Please reply immediately, it is urgent.", "Today please.", "It is urgent!!!",
    "Please fix this ASAP.", "I need it today please.", "Respond immediately please.", "Urgent, please.",
)
CALM_SENTENCES = (
    "No rush.", "Whenever you get a chance.", "No hurry at all.", "Take your time.", "Thanks in advance.",
    "Let me know when you can.", "Thanks for your help.",
)
GREETINGS = (
    "Hi,", "Hello,", "Hey,", "Hi there,", "Good morning,", "Dear support,", "Hello team,", "Hi support team,",
    "Good evening,", "Hey there,",
)
NAMES = ("Maria", "Tom", "Li", "Aisha", "Jonas", "Priya", "Sam", "Elena", "Kofi", "Mei", "Lucas", "Nora")
SIGN_OFFS = ("Thanks.", "Thank you.", "Thanks, {name}", "Cheers, {name}", "Best regards, {name}", "Regards.",
             "thx", "- {name}", "Many thanks.", "Thank you, {name}")
STREETS = ("Elm Street", "Baker Road", "Oak Avenue", "Mill Lane", "Station Road", "King Street", "Park Way")
TYPOS = {
    "please": ("pls", "plz", "pleas"), "received": ("recieved",), "address": ("adress", "addres"),
    "would": ("woudl",), "really": ("realy",), "delivered": ("deliverd",), "arrived": ("arived",),
    "refund": ("refnud",), "cancel": ("cancle",), "the": ("teh",), "still": ("stil",), "order": ("oder",),
    "warranty": ("waranty",), "shipping": ("shiping",), "because": ("becuase",), "anymore": ("anymor",),
    "disappointed": ("dissapointed",), "compatible": ("compatable",), "tracking": ("traking",),
}


def _order_id(rng: random.Random, used: set[str]) -> str:
    while True:
        oid = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXZ") for _ in range(2)) + f"-{rng.randrange(10**5):05d}"
        if oid not in used:
            used.add(oid)
            return oid


def _written_id(rng: random.Random, oid: str) -> str:
    """How the customer types the id: usually as given, sometimes in lower case."""
    return oid.lower() if rng.random() < 0.25 else oid


def _typo(rng: random.Random, text: str) -> str:
    words = [m for m in re.finditer(r"[A-Za-z]+", text) if m.group().lower() in TYPOS]
    if not words:
        return text
    m = rng.choice(words)
    wrong = rng.choice(TYPOS[m.group().lower()])
    return text[: m.start()] + (wrong.capitalize() if m.group()[0].isupper() else wrong) + text[m.end():]


def _message(rng: random.Random, intent: str, product: str, oid: str | None, urgent: bool) -> str:
    """One message whose record is (intent, product, oid, urgent)."""
    template = rng.choice(TEMPLATES[intent])
    product_phrase = rng.choice(SYNONYMS[product])
    if rng.random() < 0.08:
        product_phrase = product_phrase.capitalize() if rng.random() < 0.5 else product_phrase.upper()
    inline = oid is not None and "{o}" in template.lower() and rng.random() < 0.75
    order_np = rng.choice(ORDER_PHRASES).format(id=_written_id(rng, oid)) if inline else rng.choice(NO_ORDER_PHRASES)
    street = f"{rng.randrange(2, 200)} {rng.choice(STREETS)}"
    body = template.format(p=product_phrase, o=order_np, O=order_np[0].upper() + order_np[1:], street=street)

    before: list[str] = []
    after: list[str] = []
    prefix = ""
    if oid is not None and not inline:
        mention = rng.random()
        if mention < 0.3:
            prefix = rng.choice(ORDER_PREFIXES).format(id=_written_id(rng, oid))
        elif mention < 0.55:
            before.append(rng.choice(ORDER_SENTENCES).format(id=_written_id(rng, oid)))
        else:
            after.append(rng.choice(ORDER_SENTENCES).format(id=_written_id(rng, oid)))
    elif oid is None and intent != "product_question" and rng.random() < 0.15:
        after.append(rng.choice(NO_ID_SENTENCES))

    if urgent:
        cue = rng.random()
        if cue < 0.25 and not prefix:
            prefix = rng.choice(URGENT_PREFIXES)
        elif cue < 0.45:
            body = body[:-1] + "!!!"
        else:
            after.append(rng.choice(URGENT_SENTENCES))
    elif rng.random() < 0.3:
        after.append(rng.choice(CALM_SENTENCES))

    sentences = [*before, body, *after]
    text = prefix + " ".join(sentences)
    if rng.random() < 0.55:
        first = text.split()[0]
        if first != "I" and not first.isupper() and rng.random() < 0.8:
            text = text[0].lower() + text[1:]
        text = rng.choice(GREETINGS) + " " + text
    if rng.random() < 0.45:
        sign_off = rng.choice(SIGN_OFFS).format(name=rng.choice(NAMES))
        if not (sign_off.lower().startswith(("thank", "thx", "many")) and "thank" in text.lower()):
            text += " " + sign_off
    if rng.random() < 0.15:
        text = _typo(rng, text)
    casing = rng.random()
    if casing < 0.08:
        text = text.lower()
    elif casing < 0.18:
        text = text[0].lower() + text[1:]
    return text


def _balanced(rng: random.Random, values: tuple, n: int) -> list:
    """``n`` values cycling through ``values`` (counts differ by at most one), shuffled."""
    out = [values[i % len(values)] for i in range(n)]
    rng.shuffle(out)
    return out


def _shares(rng: random.Random, n: int, share: float) -> list[bool]:
    k = round(n * share)
    out = [True] * k + [False] * (n - k)
    rng.shuffle(out)
    return out


def make_tickets(seed: int = 0) -> dict[str, list[dict]]:
    """The tickets of every split: ``{split: [record, ...]}`` with the keys ``message`` + FIELDS.

    Intents and products are balanced per split (counts differ by at most one);
    exactly ``round(n * 0.30)`` tickets per split have no order id and
    ``round(n * 0.35)`` are urgent. No message repeats within or across splits
    (compared case-insensitively).
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    used_ids: set[str] = set()
    splits: dict[str, list[dict]] = {}
    for split in SPLITS:
        n = SPLIT_SIZES[split]
        intents = _balanced(rng, INTENTS, n)
        products = _balanced(rng, PRODUCTS, n)
        no_id = _shares(rng, n, NULL_ORDER_SHARE)
        urgent = _shares(rng, n, URGENT_SHARE)
        rows = []
        for i in range(n):
            oid = None if no_id[i] else _order_id(rng, used_ids)
            while True:
                message = _message(rng, intents[i], products[i], oid, urgent[i])
                key = " ".join(message.lower().split())
                if key not in seen and len(message.split()) <= MAX_WORDS:
                    seen.add(key)
                    break
            record = {"message": message, "intent": intents[i], "product": products[i], "order_id": oid,
                      "urgent": urgent[i]}
            format_record(record)  # raises ValueError on a value outside the schema
            rows.append(record)
        splits[split] = rows
    return splits


def write_tickets(splits: dict[str, list[dict]], out: Path) -> list[Path]:
    """Write ``<out>/<split>.jsonl`` (UTF-8, ``\\n`` line ends, keys: message + FIELDS); return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, rows in splits.items():
        path = out / f"{split}.jsonl"
        lines = (json.dumps({k: row[k] for k in ("message", *FIELDS)}, ensure_ascii=False) for row in rows)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0, the committed files)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default {DATA_DIR})")
    args = parser.parse_args(argv)
    for path in write_tickets(make_tickets(args.seed), args.out):
        print(f"wrote {path} ({sum(1 for _ in path.open(encoding='utf-8'))} tickets)")


if __name__ == "__main__":
    main()
