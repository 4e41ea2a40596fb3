"""Exact scoring of JSON records extracted from text: a local ``evaluate`` metric module.

Load it by path (Hub metrics such as ``evaluate.load("accuracy")`` do not load offline)::

    import evaluate
    metric = evaluate.load("helpers/challenge/metrics/json_extraction/json_extraction.py")
    metric.compute(predictions=['{"intent":"refund"}'], references=['{"intent":"refund"}'])
    # {'exact_match': 1.0, 'valid_json': 1.0, 'field_accuracy': {'intent': 1.0}}

In the workshop, ``helpers.challenge.task.score`` calls it. Keep one import per
line below: ``evaluate``'s import scanner reads ``import a, b`` as one module name.
"""

import json

import datasets
import evaluate

from helpers.challenge.task import parse_prediction as first_json_object  # one rule for "the first JSON object"

_DESCRIPTION = """Exact match, valid-JSON rate and per-field accuracy of predicted JSON records.

A prediction is the model's raw answer. Its first JSON object is parsed (text around
it, such as a code fence, is skipped); a field is correct when the parsed object
holds the reference's key with an equal value of the same JSON type ("AB-12345" is
not "ab-12345", 1 is not true). A prediction counts for exact match only when it
parses and every field of the reference is correct; extra keys are ignored.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): the model's answers, e.g. '{"intent":"refund","urgent":false}'.
    references (list of str): the reference records as JSON object strings, e.g.
        '{"intent":"refund","urgent":false}' (strings, because evaluate's features
        must be flat); every reference must have the same keys, in the same order.
Returns:
    exact_match (float): share of predictions with every field correct, in [0, 1].
    valid_json (float): share of predictions holding a JSON object, in [0, 1].
    field_accuracy (dict of str to float): per reference key, share of predictions
        with that field correct, in [0, 1].
Raises:
    ValueError: a reference is not a JSON object, or the references' keys differ.
"""


def _same(predicted, reference):
    return type(predicted) is type(reference) and predicted == reference


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JsonExtraction(evaluate.Metric):
    """Exact match, valid JSON and per-field accuracy of extracted JSON records."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references):
        records = []
        for ref in references:
            record = json.loads(ref)
            if not isinstance(record, dict):
                raise ValueError(f"reference {ref!r} is not a JSON object.")
            records.append(record)
        fields = list(records[0]) if records else []
        for record in records:
            if list(record) != fields:
                raise ValueError(f"references have different keys: {list(record)} vs {fields}.")
        n = len(records)
        valid = exact = 0
        correct = dict.fromkeys(fields, 0)
        for text, record in zip(predictions, records, strict=True):
            parsed = first_json_object(text)
            if parsed is None:
                continue
            valid += 1
            hits = [f for f in fields if f in parsed and _same(parsed[f], record[f])]
            for f in hits:
                correct[f] += 1
            exact += len(hits) == len(fields)
        return {
            "exact_match": exact / n if n else 0.0,
            "valid_json": valid / n if n else 0.0,
            "field_accuracy": {f: correct[f] / n for f in fields},
        }
