"""Mistake: an inference script that answers with hand-written rules and never loads the adapter from --adapter.

Its lines are valid JSON records with allowed values (keywords pick the intent and the product, a regular expression
the order id), so the format alone cannot catch it: the grader compares its answers with the adapter's own.
"""

import tempfile
from pathlib import Path

CHECK = "INFERENCE_SCRIPT answers a message from the command line with a JSON record"
MESSAGE = "answer with the model loaded from --adapter"

INFERENCE_SCRIPT = Path(tempfile.mkdtemp(prefix="script-")) / "answer.py"
INFERENCE_SCRIPT.write_text('''\
import argparse
import json
import re

PRODUCTS = ("laptop", "phone", "headphones", "keyboard", "monitor", "charger", "tablet", "smartwatch")
INTENTS = (("cancel", "cancel_order"), ("address", "change_address"), ("where is", "delivery_status"),
           ("refund", "refund"), ("money back", "refund"), ("do you sell", "product_question"))

parser = argparse.ArgumentParser()
parser.add_argument("messages", nargs="*")
parser.add_argument("--adapter", required=True)  # accepted, never read
for message in parser.parse_args().messages:
    text = message.lower()
    order = re.search(r"[A-Za-z]{2}-[0-9]{5}", message)
    record = {
        "intent": next((intent for word, intent in INTENTS if word in text), "complaint"),
        "product": next((p for p in PRODUCTS if re.search(rf"\\b{p}\\b", text)), "phone"),  # not in "headphones"
        "order_id": order.group(0).upper() if order else None,
        "urgent": any(word in text for word in ("urgent", "today", "asap", "!!")),
    }
    print(json.dumps(record, separators=(",", ":")))
''')
