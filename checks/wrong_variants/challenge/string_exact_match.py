"""Mistake: compares answer strings, so a right record with spaces or another key order counts as wrong."""

CHECK = "evaluate_model scores greedy answers by exact match, valid JSON and per-field accuracy"
MESSAGE = "exact_match should be"

def evaluate_model(model, tokenizer, dataset):
    answers = generate_answers(model, tokenizer, dataset["message"], max_new_tokens=40)
    references = [format_record(row) for row in dataset]
    exact = sum(a == r for a, r in zip(answers, references, strict=True)) / len(references)
    valid = sum(a.startswith("{") for a in answers) / len(answers)
    return {"exact_match": exact, "valid_json": valid, "field_accuracy": {}}
