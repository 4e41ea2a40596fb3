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
    assert fig._suptitle.get_text().startswith("SmolLM2-135M, two precisions")  # fp32 and bf16 only on some Macs


def test_bitsandbytes_noise_is_silenced():
    silence_bitsandbytes()
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() >= logging.ERROR


# --------------------------------------------------------------------------- quantization_support (Apple laptops)


@pytest.fixture
def mac(monkeypatch):
    """Pretend to be an Apple Silicon Mac on macOS 15 with bitsandbytes 0.50.2 and torch 2.13 (no CUDA)."""
    import platform

    import torch

    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setattr(platform, "mac_ver", lambda: ("15.5", ("", "", ""), "arm64"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch, "__version__", "2.13.0")
    monkeypatch.setattr(q, "_installed_version", lambda name: "0.50.2" if name == "bitsandbytes" else None)
    return monkeypatch


def _one_sentence(reason: str | None) -> str:
    assert reason is not None
    assert reason.count(". ") == 0 and reason.endswith(".") and "\n" not in reason, reason
    assert q.SKIP_ADVICE in reason  # what to do: int8/nf4 skipped, the rest works
    return reason


def test_apple_silicon_cpu_and_mps_are_supported(mac):
    assert q.quantization_support("cpu") is None
    assert q.quantization_support("mps") is None
    assert q.quantization_support(None) is None  # pick_device() picks mps here


def test_linux_cpu_is_supported_whatever_the_mac_checks_say(mac):
    import platform

    mac.setattr(platform, "system", lambda: "Linux")
    mac.setattr(platform, "machine", lambda: "x86_64")
    mac.setattr(platform, "mac_ver", lambda: ("", ("", "", ""), ""))
    assert q.quantization_support("cpu") is None


def test_intel_mac_gets_one_sentence_with_the_source(mac):
    import platform

    mac.setattr(platform, "machine", lambda: "x86_64")
    reason = _one_sentence(q.quantization_support("cpu"))
    assert reason.startswith("bitsandbytes has no backend for Intel Macs") and q.BITSANDBYTES_SUPPORT_URL in reason


def test_old_macos_gets_one_sentence(mac):
    import platform

    mac.setattr(platform, "mac_ver", lambda: ("13.6.1", ("", "", ""), "arm64"))
    assert "this Mac runs macOS 13.6.1" in _one_sentence(q.quantization_support("mps"))


def test_old_bitsandbytes_on_a_mac_gets_one_sentence(mac):
    mac.setattr(q, "_installed_version", lambda name: "0.48.2")
    assert "bitsandbytes 0.48.2 has no Apple backend" in _one_sentence(q.quantization_support("cpu"))


def test_mps_with_old_torch_gets_one_sentence_but_the_cpu_is_fine(mac):
    import torch

    mac.setattr(torch, "__version__", "2.8.0")
    assert "needs torch 2.9 or newer" in _one_sentence(q.quantization_support("mps"))
    assert q.quantization_support("cpu") is None


def test_no_bitsandbytes_or_another_device_gets_one_sentence(mac):
    assert "xpu" in _one_sentence(q.quantization_support("xpu"))
    mac.setattr(q, "_installed_version", lambda name: None)
    assert _one_sentence(q.quantization_support("cpu")).startswith("bitsandbytes is not installed")


def test_version_parts():
    assert q._version_tuple("2.13.0+cpu") == (2, 13, 0)
    assert q._version_tuple("0.50.2.dev0") == (0, 50, 2)
    assert q._version_tuple("15.5") == (15, 5)
