"""Library noise is silenced at its source, warnings of real problems are not."""

from __future__ import annotations

import logging

from transformers.utils import logging as hf_logging

from helpers.noise import quiet_libraries


def test_quiet_libraries_hides_loading_bars_and_bitsandbytes_chatter():
    hf_logging.enable_progress_bar()
    logging.getLogger("bitsandbytes").setLevel(logging.NOTSET)
    quiet_libraries()
    assert not hf_logging.is_progress_bar_enabled()
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() == logging.ERROR
    assert hf_logging.get_verbosity() <= hf_logging.WARNING  # transformers warnings still show
