"""Silence known-harmless library output at its source, so notebook cells show what matters."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


def silence_bitsandbytes() -> None:
    """Hide bitsandbytes' harmless CPU log lines.

    On a CPU-only machine bitsandbytes logs ``Failed to load CPU gemm_4bit_forward
    from kernels-community`` at import and ``MatMul8bitLt: inputs will be cast from
    torch.float32 to float16`` on every 8-bit matmul (about 210 lines per forward
    pass of SmolLM2). Real errors are still shown.
    """
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


@contextmanager
def progress_bars_off() -> Iterator[None]:
    """Hide transformers' progress bars inside the block, then restore the previous setting."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def quiet_libraries() -> None:
    """Hide output that says nothing to a learner; real warnings and errors still show.

    * transformers' "Loading weights" progress bar: the workshop's models load in
      well under a second, so the bar is only noise in stored outputs.
    * bitsandbytes' CPU log lines (see :func:`silence_bitsandbytes`).
    * datasets' progress bars: ``map``, Parquet writing and split generation over a few hundred
      rows take well under a second. The Trainer's own progress bar stays.
    * transformers 5's ``FutureWarning`` that ``is_gradient_checkpointing`` is deprecated: peft
      0.21 reads the old name inside ``get_peft_model``, nothing the learner wrote.
    """
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    silence_bitsandbytes()
    try:  # datasets' "Map: 100%", "Creating parquet", "Generating train split" bars for a few hundred rows
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*deprecated.*", category=FutureWarning)
