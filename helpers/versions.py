"""Version drift: which libraries differ from the workshop's pins, and what a removed spelling is called today.

Most "it worked yesterday" errors in a Hugging Face course are a library newer or older than the one the notebook
was written for: a keyword removed in transformers 5 (``torch_dtype=``, ``evaluation_strategy=``), or a package
installed outside ``make setup``. :func:`helpers.device.setup` installs :func:`install_exception_hook`, so such an
error ends with one line that names the fix and the installed and pinned versions; ``check()`` tables add
:func:`drift_note` when a check fails while versions differ.
"""

from __future__ import annotations

import re

from helpers import colab
from helpers.pins import installed_version, pin_lines

KEY_PACKAGES = ("torch", "transformers", "peft", "datasets", "accelerate", "huggingface_hub", "bitsandbytes",
                "tokenizers", "evaluate")
"""The libraries whose version changes what a notebook's code may write."""

RENAMED_KEYWORDS: dict[str, tuple[str, str]] = {
    "torch_dtype": ("transformers", "write `dtype=` (`torch_dtype=` is deprecated since transformers 5)"),
    "evaluation_strategy": ("transformers", "write `eval_strategy=` in TrainingArguments (removed in transformers 5)"),
    "tokenizer": ("transformers", "pass the tokenizer to Trainer as `processing_class=` (renamed in transformers 5)"),
    "load_in_8bit": ("transformers", "write `quantization_config=BitsAndBytesConfig(load_in_8bit=True)` "
                                     "(the shortcut keyword was removed in transformers 5)"),
    "load_in_4bit": ("transformers", "write `quantization_config=BitsAndBytesConfig(load_in_4bit=True, ...)` "
                                     "(the shortcut keyword was removed in transformers 5)"),
    "use_auth_token": ("huggingface_hub", "write `token=` (`use_auth_token=` was removed)"),
    "warmup_ratio": ("transformers", "write `warmup_steps=0.1` (a float below 1 is a ratio in transformers 5)"),
    "use_flash_attention_2": ("transformers",
                              "write `attn_implementation=\"flash_attention_2\"` (removed in transformers 5)"),
    "no_cuda": ("transformers", "write `use_cpu=True` (`no_cuda=` was removed in transformers 5)"),
}
"""Removed keyword -> (library, the one-line fix). Sources: the transformers v5 migration guide
(https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md) and release notes
(https://github.com/huggingface/transformers/releases)."""

_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


def pinned_versions() -> dict[str, str]:
    """``{normalised name: version}`` from ``requirements.txt`` (names lower-case, ``-`` and ``.`` as ``_``)."""
    return {_normalise(name): version for name, version in pin_lines()}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _colab(on_colab: bool | None) -> bool:
    return colab.on_colab() if on_colab is None else on_colab


def version_drift(packages: tuple[str, ...] = KEY_PACKAGES,
                  on_colab: bool | None = None) -> list[tuple[str, str | None, str]]:
    """``(name, installed, pinned)`` for each of ``packages`` whose installed version is not its pin.

    A local build tag counts as the pin (``2.13.0+cpu`` is ``2.13.0``). Packages without a pin are skipped. On Colab
    (``on_colab``; ``None``: :func:`helpers.colab.on_colab`) only what the launch cell installs is compared
    (:func:`helpers.colab.installed_by_workshop`): Colab's own torch, numpy, pandas and Jupyter are not drift.
    """
    if _colab(on_colab):
        packages = tuple(name for name in packages if colab.installed_by_workshop(name))
    pins = pinned_versions()
    drift = []
    for name in packages:
        pinned = pins.get(_normalise(name))
        if pinned is None:
            continue
        installed = installed_version(name)
        if installed is None or installed.split("+")[0] != pinned:
            drift.append((name, installed, pinned))
    return drift


def drift_note(packages: tuple[str, ...] = KEY_PACKAGES, on_colab: bool | None = None) -> str | None:
    """One line naming the libraries that differ from the pins and the fix, or ``None`` when none differs.

    On Colab (``on_colab``; ``None``: :func:`helpers.colab.on_colab`) the fix is a fresh runtime and the launch cell,
    since Colab has no ``make``; see :func:`version_drift` for what is compared there.
    """
    in_colab = _colab(on_colab)
    drift = version_drift(packages, on_colab=in_colab)
    if not drift:
        return None
    listed = ", ".join(f"{name} {installed or 'missing'} (pinned {pinned})" for name, installed, pinned in drift)
    fix = ("choose Runtime > Disconnect and delete runtime, then run this notebook's first code cell again (it "
           "installs the pins)." if in_colab else
           "run `make setup` and restart the kernel with the *Python (transformers-workshop)* kernel.")
    return f"Installed versions differ from the workshop's pins: {listed}. A failure may come from that: {fix}"


def diagnose(error: BaseException) -> str | None:
    """A one-line diagnosis of ``error`` when it is a known version or set-up problem, else ``None``.

    Knows: a removed keyword (``TypeError: ... unexpected keyword argument 'torch_dtype'``, see
    :data:`RENAMED_KEYWORDS`); offline, a model id that is not in the workshop's cache (``OSError``); in Hub mode,
    no network (``httpx.ConnectError`` and timeouts), an unknown id and a gated model without a token. Any other
    error gets the drift note when versions differ from the pins.
    """
    from helpers import env

    match = _UNEXPECTED.search(str(error)) if isinstance(error, TypeError) else None
    if match and match.group(1) in RENAMED_KEYWORDS:
        library, fix = RENAMED_KEYWORDS[match.group(1)]
        installed = installed_version(library) or "not installed"
        pinned = pinned_versions().get(_normalise(library), "not pinned")
        return f"`{match.group(1)}=`: {fix}. Installed: {library} {installed} (pinned {pinned})."
    text = str(error)
    offline = env.model_source() == "offline"
    if isinstance(error, OSError) and "couldn't connect to 'https://huggingface.co'" in text and offline:
        from helpers.models import CATALOG

        return ("Offline mode: that model is not in the workshop's cache, which holds "
                f"{' and '.join(CATALOG)}. Use one of those ids (or a local folder); if they fail too, run "
                "`make models`. Other models need internet: `export WORKSHOP_MODELS=hub`, then restart the kernel.")
    if "gated repo" in text or "is a gated repository" in text:
        return ("A gated model: accept its licence on its Hub page, then log in with `hf auth login` (or set "
                "HF_TOKEN) and restart the kernel.")
    if "is not a valid model identifier" in text or "not a local folder or a valid repository name" in text:
        return ("No such model on the Hub (or a private one): check the id's spelling on huggingface.co/models; "
                "a private repository also needs `hf auth login`.")
    if not offline and (type(error).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout")
                        or "couldn't connect to 'https://huggingface.co'" in text):
        return ("Hub mode cannot reach huggingface.co: check your network or proxy, or unset WORKSHOP_MODELS "
                "(offline mode, the copies `make models` prepared) and restart the kernel.")
    return drift_note()


def install_exception_hook() -> bool:
    """In IPython, add :func:`diagnose`'s line (when it has one) under the traceback of every exception.

    Idempotent. Outside IPython (a script, ``make grade``'s runner) it does nothing.

    Returns:
        Whether a hook is installed.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def show(shell, etype, value, tb, tb_offset=None):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        line = diagnose(value)
        if line:
            print(f"\nWorkshop diagnosis: {line}")
        return None

    shell.set_custom_exc((Exception,), show)
    return True
