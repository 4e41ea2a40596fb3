"""Silence known-harmless library output at its source, so notebook cells show what matters."""

from __future__ import annotations

import logging


def quiet_libraries() -> None:
    """Hide output that says nothing to a learner; real warnings and errors still show.

    * transformers' "Loading weights" progress bar: the workshop's models load in
      well under a second, so the bar is only noise in stored outputs.
    * bitsandbytes' CPU log lines (``Failed to load CPU gemm_4bit_forward from
      kernels-community``, ``MatMul8bitLt: inputs will be cast …`` on every 8-bit matmul).
    """
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
