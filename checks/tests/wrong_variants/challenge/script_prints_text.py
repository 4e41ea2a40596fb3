"""Mistake: an inference script that prints prose, not the JSON record a program can read."""

import tempfile
from pathlib import Path

CHECK = "INFERENCE_SCRIPT answers a message from the command line with a JSON record"
MESSAGE = "not a JSON record with allowed values"

INFERENCE_SCRIPT = Path(tempfile.mkdtemp(prefix="script-")) / "answer.py"
INFERENCE_SCRIPT.write_text('import sys\nprint("The customer wants a refund for a phone.")\n')
