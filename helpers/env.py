"""The process's environment: the offline-or-Hub switch, and library output that says nothing to a learner.

One environment variable decides where model weights come from:

``WORKSHOP_MODELS=offline`` (the default)
    ``make models`` has written the workshop's models into a standard Hugging Face hub cache of the
    workshop's own (:data:`helpers.paths.HUB_CACHE_DIR`). :func:`apply` points ``HF_HUB_CACHE`` there and sets
    ``HF_HUB_OFFLINE=1``, so ``from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")`` loads from that cache
    and anything not in it fails at once instead of after a minute of retries. The learner's own Hugging Face
    cache is not touched.
``WORKSHOP_MODELS=hub``
    Both variables are left as they are: the same model ids download from the Hugging Face Hub as usual.

``huggingface_hub`` reads ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE`` once, when it is first imported, so
:func:`apply` must run before ``transformers`` is imported; ``import helpers`` does it for you, which is why
every notebook imports ``helpers`` first.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from helpers.paths import HUB_CACHE_DIR

ENV_VAR = "WORKSHOP_MODELS"
"""Name of the environment variable that selects the model source."""

ModelSource = Literal["offline", "hub"]
_ALLOWED: tuple[ModelSource, ...] = ("offline", "hub")

# Variables set in offline mode. HF_HUB_OFFLINE and HF_HUB_CACHE are the ones transformers 5,
# datasets 5 and huggingface_hub 2 all honour; the others keep logs quiet.
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_CACHE": str(HUB_CACHE_DIR)}
_COMMON_ENV = {"HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}


def model_source() -> ModelSource:
    """Return the configured model source, ``"offline"`` or ``"hub"``.

    Reads ``WORKSHOP_MODELS`` (case-insensitive, default ``"offline"``).

    Raises:
        ValueError: if the variable holds anything else; the message names the
            allowed values.
    """
    value = os.environ.get(ENV_VAR, "offline").strip().lower() or "offline"
    if value not in _ALLOWED:
        raise ValueError(
            f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not a model source. "
            f"Use one of {', '.join(_ALLOWED)} (for example `export {ENV_VAR}=hub` "
            "to download from the Hugging Face Hub), or unset it for offline mode."
        )
    return value  # type: ignore[return-value]


def apply() -> ModelSource:
    """Set the Hugging Face environment variables for the configured source.

    Offline, sets ``HF_HUB_CACHE`` to the workshop's hub cache, ``HF_HUB_OFFLINE=1`` and ``HF_DATASETS_OFFLINE=1``
    (replacing values exported before: offline mode means this cache and no network). In both modes turns off
    telemetry and the tokenizers fork warning, keeping values the user exported. Warns when ``huggingface_hub``
    was imported before this ran with other values, because it then ignores the new ones.

    Returns:
        The active model source.
    """
    source = model_source()
    for key, value in _COMMON_ENV.items():
        os.environ.setdefault(key, value)
    if source == "offline":
        os.environ.update(_OFFLINE_ENV)
        hub = sys.modules.get("huggingface_hub.constants")
        if hub is not None and (not hub.HF_HUB_OFFLINE or hub.HF_HUB_CACHE != str(HUB_CACHE_DIR)):
            warnings.warn(
                "`transformers`/`huggingface_hub` was imported before `helpers`, so offline "
                "mode is not active in this kernel. Restart the kernel and run "
                "`import helpers` before any Hugging Face import.",
                RuntimeWarning,
                stacklevel=3,
            )
    return source


# ------------------------------------------------------------------ library noise


def silence_bitsandbytes() -> None:
    """Hide bitsandbytes' harmless CPU log lines.

    On a CPU-only machine bitsandbytes logs ``Failed to load CPU gemm_4bit_forward
    from kernels-community`` at import and ``MatMul8bitLt: inputs will be cast from
    torch.float32 to float16`` on every 8-bit matmul (about 210 lines per forward
    pass of SmolLM2). Real errors are still shown.
    """
    import logging

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def set_progress_bars(enabled: bool, *, with_datasets: bool = True) -> bool:
    """Show or hide the progress bars of transformers (model loading) and datasets (map, load) together.

    The one switch of the workshop's progress bars; the Trainer's own bar is not affected.

    Args:
        enabled: show (``True``) or hide them.
        with_datasets: also switch datasets' bars. ``False`` in a process that never uses datasets (the memory
            probe's children): importing datasets adds about 85 MiB of resident memory and 1 s.

    Returns:
        Whether the switched libraries showed their bars before the call (pass it back to restore them).
    """
    from transformers.utils import logging as hf_logging

    before = hf_logging.is_progress_bar_enabled()
    switch = hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar
    switch()
    if with_datasets:
        import datasets

        before = before and not datasets.are_progress_bars_disabled()
        (datasets.enable_progress_bars if enabled else datasets.disable_progress_bars)()
    return before


@contextmanager
def progress_bars_off(*, with_datasets: bool = True) -> Iterator[None]:
    """Hide the progress bars of transformers and datasets inside the block (see :func:`set_progress_bars`).

    The previous setting is restored afterwards, so a learner's own choice survives.
    """
    before = set_progress_bars(False, with_datasets=with_datasets)
    try:
        yield
    finally:
        if before:
            set_progress_bars(True, with_datasets=with_datasets)


def quiet_libraries(*, with_datasets: bool = True) -> None:
    """Hide output that says nothing to a learner, for the rest of the process; real warnings and errors still show.

    * transformers' "Loading weights" progress bar: the workshop's models load in
      well under a second, so the bar is only noise in stored outputs.
    * bitsandbytes' CPU log lines (see :func:`silence_bitsandbytes`).
    * datasets' progress bars (unless ``with_datasets=False``): ``map``, Parquet writing and split generation
      over a few hundred rows take well under a second. The Trainer's own progress bar stays.
    * transformers 5's ``FutureWarning`` that ``is_gradient_checkpointing`` is deprecated: peft
      0.21 reads the old name inside ``get_peft_model``, nothing the learner wrote.
    * peft's ``UserWarning`` "Could not find a config file in <Hub id> - will assume that the vocabulary was not
      modified" on every adapter ``save_pretrained``: with ``HF_HUB_OFFLINE=1`` peft does not look the base model up
      (peft ``check_file_exists_on_hf_hub``) and says so; the workshop never changes the vocabulary.
    """
    silence_bitsandbytes()  # first: importing transformers or datasets may import bitsandbytes, which logs at import
    set_progress_bars(False, with_datasets=with_datasets)
    warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*deprecated.*", category=FutureWarning)
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        warnings.filterwarnings("ignore", message=r"Could not find a config file in .* vocabulary was not modified",
                                category=UserWarning)
