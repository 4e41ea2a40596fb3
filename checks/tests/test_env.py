"""helpers.env: the offline/Hub switch, the one progress-bar switch, and library noise silenced at its source."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from transformers.utils import logging as hf_logging

from helpers import env


def test_default_is_offline(monkeypatch):
    monkeypatch.delenv(env.ENV_VAR, raising=False)
    assert env.model_source() == "offline"


@pytest.mark.parametrize("value", ["hub", "HUB", " Hub "])
def test_hub_is_case_insensitive(monkeypatch, value):
    monkeypatch.setenv(env.ENV_VAR, value)
    assert env.model_source() == "hub"


def test_unknown_value_names_the_allowed_ones(monkeypatch):
    monkeypatch.setenv(env.ENV_VAR, "online")
    with pytest.raises(ValueError, match="offline, hub"):
        env.model_source()


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


def test_import_helpers_points_the_hub_client_at_the_workshop_cache():
    from helpers.paths import HUB_CACHE_DIR

    out = _run("import helpers, huggingface_hub.constants as c; print(c.HF_HUB_CACHE)",
               WORKSHOP_CACHE_DIR=str(HUB_CACHE_DIR.parent))
    assert out == str(HUB_CACHE_DIR)


def test_importing_transformers_first_warns():
    code = (
        "import warnings, transformers\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import helpers\n"
        "print(any('Restart the kernel' in str(x.message) for x in w))"
    )
    assert _run(code) == "True"


def test_quiet_libraries_hides_loading_bars_and_bitsandbytes_chatter():
    hf_logging.enable_progress_bar()
    logging.getLogger("bitsandbytes").setLevel(logging.NOTSET)
    env.quiet_libraries()
    assert not hf_logging.is_progress_bar_enabled()
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() == logging.ERROR
    assert hf_logging.get_verbosity() <= hf_logging.WARNING  # transformers warnings still show


def test_one_switch_turns_both_libraries_progress_bars_off_and_restores_them():
    import datasets

    env.set_progress_bars(True)
    with env.progress_bars_off():
        assert not hf_logging.is_progress_bar_enabled() and datasets.are_progress_bars_disabled()
    assert hf_logging.is_progress_bar_enabled() and not datasets.are_progress_bars_disabled()
    env.set_progress_bars(False)
    with env.progress_bars_off():
        pass
    assert not hf_logging.is_progress_bar_enabled() and datasets.are_progress_bars_disabled(), \
        "a learner's own 'off' survives the block"


def test_a_process_without_datasets_can_switch_the_bars_without_importing_it():
    """The memory probe's children never use datasets: importing it would add about 85 MiB to every measured peak."""
    code = ("import sys, helpers\n"
            "from helpers import env\n"
            "from transformers.utils import logging as hf_logging\n"
            "env.quiet_libraries(with_datasets=False)\n"
            "with env.progress_bars_off(with_datasets=False):\n"
            "    pass\n"
            "print('datasets' in sys.modules, hf_logging.is_progress_bar_enabled())\n"
            "env.quiet_libraries()\n"
            "print('datasets' in sys.modules)")
    assert _run(code).splitlines() == ["False False", "True"]
