"""The offline/Hub switch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import hub_mode


def test_default_is_offline(monkeypatch):
    monkeypatch.delenv(hub_mode.ENV_VAR, raising=False)
    assert hub_mode.model_source() == "offline"


@pytest.mark.parametrize("value", ["hub", "HUB", " Hub "])
def test_hub_is_case_insensitive(monkeypatch, value):
    monkeypatch.setenv(hub_mode.ENV_VAR, value)
    assert hub_mode.model_source() == "hub"


def test_unknown_value_names_the_allowed_ones(monkeypatch):
    monkeypatch.setenv(hub_mode.ENV_VAR, "online")
    with pytest.raises(ValueError, match="offline, hub"):
        hub_mode.model_source()


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "WORKSHOP_"))}
    result = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                            capture_output=True, text=True, check=True, timeout=120)
    return result.stdout.strip()


def test_import_helpers_puts_the_hub_client_offline_before_it_loads():
    out = _run("import helpers, huggingface_hub.constants as c; print(c.HF_HUB_OFFLINE)")
    assert out == "True"


def test_hub_mode_leaves_the_hub_client_online():
    out = _run("import helpers, huggingface_hub.constants as c; print(c.HF_HUB_OFFLINE)", WORKSHOP_MODELS="hub")
    assert out == "False"


def test_importing_transformers_first_warns():
    code = (
        "import warnings, huggingface_hub\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import helpers\n"
        "print(any('Restart the kernel' in str(x.message) for x in w))"
    )
    assert _run(code) == "True"
