"""helpers.quantization: the measurements' schema, file and plot (the configs are the learner's work)."""

from __future__ import annotations

import json
import logging

import pytest

from helpers import quantization as q
from helpers.env import silence_bitsandbytes

GOOD = {"fp32": {"footprint_bytes": 538_000_000, "tokens_per_second": 30.5, "loss": 2.96},
        "nf4": {"footprint_bytes": 166_000_000, "tokens_per_second": 12.0, "loss": 2.97}}


def test_measurements_round_trip(tmp_path):
    path = q.save_measurements(GOOD, tmp_path / "sub" / "quantization.json", device="cpu (AVX2)")
    loaded = q.load_measurements(path)
    assert loaded.device == "cpu (AVX2)"
    assert loaded.variants["nf4"].footprint_bytes == 166_000_000 and loaded.variants["fp32"].loss == 2.96
    assert not list(path.parent.glob("*.part"))  # written atomically


@pytest.mark.parametrize(("variants", "message"), [
    ({"fp8": GOOD["fp32"]}, "unknown variant"),
    ({"fp32": {**GOOD["fp32"], "loss": -1.0}}, "loss"),
    ({"fp32": {k: v for k, v in GOOD["fp32"].items() if k != "loss"}}, "loss"),
    ({"fp32": {**GOOD["fp32"], "typo": 1}}, "typo"),
    ({"fp32": {**GOOD["fp32"], "footprint_bytes": "big"}}, "footprint_bytes"),
])
def test_bad_measurements_are_refused_with_the_field_named(tmp_path, variants, message):
    with pytest.raises(q.MeasurementsError, match=message):
        q.save_measurements(variants, tmp_path / "q.json")
    assert not (tmp_path / "q.json").exists()


def test_missing_or_broken_file_says_what_to_run(tmp_path):
    with pytest.raises(q.MeasurementsError, match="run 03 · Exercise, Task 5"):
        q.load_measurements(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"variants": {"fp32": {"footprint_bytes": 1}}}))
    with pytest.raises(q.MeasurementsError, match="does not fit the schema"):
        q.load_measurements(broken)


def test_the_plot_has_three_panels_labelled_with_the_share_of_fp32(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = q.plot_measurements(q.load_measurements(q.save_measurements(GOOD, tmp_path / "q.json")))
    memory, speed, loss = fig.axes
    assert [t.get_text() for t in memory.get_xticklabels()] == ["fp32", "nf4"]
    assert [t.get_text() for t in memory.texts] == ["513 (100%)", "158 (31%)"]
    assert "tokens" in speed.get_title() and "loss" in loss.get_title()


def test_bitsandbytes_noise_is_silenced():
    silence_bitsandbytes()
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() >= logging.ERROR
