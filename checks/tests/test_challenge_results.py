"""Reading the LoRA challenge's results file: missing file, broken file, missing keys, formatting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.challenge import results as cr

FULL_RESULTS = {
    "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "epochs": 3,
    "total_params": 134_975_808,
    "trainable_params": {"lora": 460_800, "qlora": 460_800, "full": 134_515_008},
    "metrics": {"base": {"exact_match": 0.05, "valid_json": 0.4, "field_accuracy": {"city": 0.3}},
                "lora": {"exact_match": 0.85, "valid_json": 1.0, "field_accuracy": {"city": 0.9}},
                "qlora": {"exact_match": 0.8}, "full": {"exact_match": 0.9}},
    "peak_memory_bytes": {"lora": 2_508 * 2**20, "qlora": 1_388 * 2**20, "full": 3_549 * 2**20},
    "train_seconds": {"lora": 65.4, "qlora": 42.0, "full": 130.0},
    "checkpoint_bytes": {"lora": 1_858_776, "qlora": 1_858_776, "full": 269_060_552},
}


def write(tmp_path, content) -> Path:
    path = tmp_path / "results.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_missing_file_says_run_the_challenge_and_nothing_is_measured(tmp_path):
    results = cr.load_challenge_results(tmp_path / "results.json")
    assert not results.found
    assert "No challenge results yet" in results.note and "run 04 · LoRA challenge first" in results.note
    assert set(results.strategies) == set(cr.STRATEGIES)
    for strategy in cr.STRATEGIES:
        assert set(results.measured_row(strategy).values()) == {cr.NOT_MEASURED}
    assert cr.read_results(tmp_path / "results.json") is None


@pytest.mark.parametrize("content", ['{"epochs": 3, "metrics": {', "[1, 2]", ""])
def test_broken_file_gives_a_message_not_a_traceback(tmp_path, content):
    path = write(tmp_path, content)
    with pytest.raises(cr.ResultsError, match="04 · LoRA challenge"):
        cr.read_results(path)
    results = cr.load_challenge_results(path)
    assert not results.found and "results.json" in results.note
    assert results.measured_row("lora")["exact match after"] == cr.NOT_MEASURED


def test_complete_results_are_formatted(tmp_path):
    path = write(tmp_path, FULL_RESULTS)
    results = cr.load_challenge_results(path)
    assert results.found
    assert results.note == f"Measured by 04 · LoRA challenge ({path}): HuggingFaceTB/SmolLM2-135M-Instruct, 3 epochs."
    assert (results.base_model, results.epochs, results.base_exact_match) == (FULL_RESULTS["base_model"], 3, 0.05)
    assert results.measured_row("lora") == {
        "trainable params": "460,800 (0.34%)",
        "peak training memory": "2,508 MiB",
        "training time": "1 min 05 s",
        "exact match after": "85%",
        "checkpoint size": "1.8 MiB",
    }
    assert results.measured_row("full")["training time"] == "2 min 10 s"
    assert results.measured_row("qlora")["training time"] == "42.0 s"


def test_results_without_setup_keys_still_have_a_note(tmp_path):
    results = cr.load_challenge_results(write(tmp_path, {"metrics": {}}))
    assert results.found and results.note == f"Measured by 04 · LoRA challenge ({tmp_path / 'results.json'})."


def test_missing_keys_are_not_measured(tmp_path):
    results = cr.load_challenge_results(write(tmp_path, {"trainable_params": {"lora": 460_800},
                                                         "metrics": {"lora": {"exact_match": 0.5}}}))
    lora = results.measured_row("lora")
    assert lora["trainable params"] == "460,800"  # no total_params: no share
    assert lora["exact match after"] == "50%"
    assert lora["peak training memory"] == cr.NOT_MEASURED and lora["training time"] == cr.NOT_MEASURED
    assert set(results.measured_row("qlora").values()) == {cr.NOT_MEASURED}
    assert results.epochs is None and results.base_model is None and results.base_exact_match is None


@pytest.mark.parametrize("bad, field", [
    ({"trainable_params": {"qlora": "many"}}, "trainable_params.qlora"),
    ({"trainable_params": {"full": True}}, "trainable_params.full"),  # a bool is not a count
    ({"metrics": {"qlora": {"exact_match": 85}}}, "metrics.qlora.exact_match"),  # 85 is not a fraction
    ({"metrics": {"lora": {"valid_json": 1.0}}}, "metrics.lora.exact_match"),
    ({"peak_memory_bytes": [1, 2]}, "peak_memory_bytes"),
    ({"train_seconds": {"lora": -1.0}}, "train_seconds.lora"),
    ({"epochs": 2.5}, "epochs"),
    ({"metrics": {"prefix": {"exact_match": 0.5}}}, "metrics.prefix.[key]"),
    ({"epoch": 3}, "epoch"),  # a misspelt key
])
def test_off_schema_results_are_rejected_with_the_field_named(tmp_path, bad, field):
    path = write(tmp_path, bad)
    with pytest.raises(cr.ResultsError, match=re.escape(f"{field}: ")):
        cr.read_results(path)
    table = cr.load_challenge_results(path)  # the tables never raise
    assert not table.found and field in table.note
    assert set(table.measured_row("lora").values()) == {cr.NOT_MEASURED}
    with pytest.raises(cr.ResultsError, match=re.escape(field)):  # and the notebook cannot write it
        cr.update_results(bad, tmp_path / "written.json")
    assert not (tmp_path / "written.json").exists()


def test_unknown_strategy_is_a_key_error():
    with pytest.raises(KeyError):
        cr.tabulate(cr.ResultsFile()).measured_row("prefix-tuning")


def test_default_path_is_repository_relative():
    from helpers.paths import shown_path

    assert shown_path(cr.DEFAULT_RESULTS) == "outputs/challenge/results.json"


def test_note_names_a_comparison_run_with_other_epochs(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"base_model": "m", "epochs": 3, "epochs_by_strategy": {"qlora": 3, "full": 1}}))
    assert cr.load_challenge_results(path).note.endswith(": m, 3 epochs (full fine-tuning 1).")
