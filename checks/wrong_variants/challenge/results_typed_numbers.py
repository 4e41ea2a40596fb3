"""Mistake: types the hoped-for scores into results.json instead of writing what evaluate_model returned."""

import tempfile
from pathlib import Path

CHECK = "RESULTS_PATH records this run: metrics before and after, epochs, parameters, memory, times"
MESSAGE = "is not `tuned_scores` as the notebook computed it"

_typed = json.loads(RESULTS_PATH.read_text())
_typed["metrics"]["lora"] = {"exact_match": 0.95, "valid_json": 1.0,
                             "field_accuracy": {"intent": 1.0, "product": 1.0, "order_id": 1.0, "urgent": 0.95}}
RESULTS_PATH = Path(tempfile.mkdtemp(prefix="typed-")) / "results.json"
RESULTS_PATH.write_text(json.dumps(_typed))
