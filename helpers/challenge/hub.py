"""Sharing the challenge's adapter and tickets on the Hugging Face Hub (05 · Reflection): what is not the lesson.

The learner writes the cards and the upload calls (``ModelCardData``, ``ModelCard.from_template``,
``DatasetCard``, ``HfApi().create_repo``, ``upload_folder``, ``DatasetDict.push_to_hub``). Given here:

* staging the two repositories offline, as folders laid out as on the Hub: :func:`stage_adapter` copies the
  challenge's saved adapter into :data:`MODEL_REPO_DIR`, :func:`stage_tickets` writes the train and validation
  tickets as Parquet where ``DatasetDict.push_to_hub`` puts them, in :data:`DATA_REPO_DIR`;
* deciding, before anything is attempted, whether this machine can upload at all (:func:`upload_status`), so that
  an offline room gets one clear sentence instead of a network traceback::

      can_upload, reason = upload_status(HUB_REPO_ID, HUB_DATASET_ID)
      if can_upload:
          upload_all()
      else:
          print(f"Nothing was uploaded: {reason}.")
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.paths import ADAPTER_DIR, HUB_DATASET_DIR, HUB_MODEL_DIR, shown_path

if TYPE_CHECKING:
    from datasets import DatasetDict

LICENSE = "apache-2.0"
"""SmolLM2-135M-Instruct's licence; an adapter trained on it is shared under the same one."""
DATA_FILE_PATTERN = "data/{split}-00000-of-00001.parquet"
"""Where ``DatasetDict.push_to_hub`` puts each split in a data set repository (one shard per split);
a folder laid out like this loads with ``load_dataset(folder)``."""
MODEL_REPO_DIR: Path = HUB_MODEL_DIR
"""The staged model repository (:data:`helpers.paths.HUB_MODEL_DIR`), the name the Reflection uses."""
DATA_REPO_DIR: Path = HUB_DATASET_DIR
"""The staged data set repository (:data:`helpers.paths.HUB_DATASET_DIR`), the name the Reflection uses."""
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
"""What ``PeftModel.save_pretrained`` writes and ``PeftModel.from_pretrained`` reads."""
SHARED_SPLITS = ("train", "validation")
"""The splits shared on the Hub; the test split stays private (the grader scores the adapter on it)."""
PLACEHOLDER_USER = "your-user-name"
"""The Hub namespace the notebook starts with; online, the learner puts their own Hub user name instead."""

PROBE_TIMEOUT_S = 5.0
"""Seconds to wait for the Hub to answer before saying it cannot be reached (``huggingface_hub``'s own HTTP client
has no timeout: an endpoint that accepts a connection and never answers would hang ``create_repo`` for ever)."""


def stage_adapter(adapter_dir: str | Path = ADAPTER_DIR, repo_dir: str | Path = MODEL_REPO_DIR) -> bool:
    """Copy the challenge's saved adapter files (:data:`ADAPTER_FILES`) into ``repo_dir``; ``True`` when done.

    Without a saved adapter (the challenge not finished) it prints one line saying what to run and returns
    ``False``; nothing is copied, and files of an earlier staging are removed so that no stale adapter is shared.
    """
    source, target = Path(adapter_dir), Path(repo_dir)
    target.mkdir(parents=True, exist_ok=True)
    missing = [name for name in ADAPTER_FILES if not (source / name).is_file()]
    if missing:
        for name in ADAPTER_FILES:
            (target / name).unlink(missing_ok=True)
        print(f"No adapter in {shown_path(source)} (missing {', '.join(missing)}): finish 04 · LoRA challenge "
              "(Task 5 saves it), then run this cell again.")
        return False
    for name in ADAPTER_FILES:
        shutil.copy2(source / name, target / name)
    print(f"Staged the adapter of {shown_path(source)} in {shown_path(target)}.")
    return True


def stage_tickets(repo_dir: str | Path = DATA_REPO_DIR, splits: tuple[str, ...] = SHARED_SPLITS) -> DatasetDict:
    """Write ``splits`` of the tickets as Parquet files where ``push_to_hub`` puts them; return them.

    Only the shared splits are written: a ``data/test-...`` file left by an earlier staging is removed.
    """
    from helpers.challenge.task import load_splits

    target = Path(repo_dir)
    tickets = load_splits(splits)
    for old in (target / DATA_FILE_PATTERN).parent.glob("*.parquet"):
        old.unlink()
    for split, rows in tickets.items():
        path = target / DATA_FILE_PATTERN.format(split=split)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(path)
    print(f"Staged {', '.join(f'{s} ({r.num_rows} tickets)' for s, r in tickets.items())} in {shown_path(target)}.")
    return tickets


def upload_status(*repo_ids: str, token: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """``(True, "")`` when an upload to ``repo_ids`` can be attempted, else ``(False, why not and what to do)``.

    Offline mode (``HF_HUB_OFFLINE=1``, the workshop's default, read by ``huggingface_hub`` when it
    is imported) and a missing token (``hf auth login`` or ``HF_TOKEN``) are known without the
    network. Otherwise one request asks the Hub who the token belongs to (``/api/whoami-v2``), within
    ``timeout`` seconds: no network, a proxy that never answers or a refused token give one sentence
    here instead of a raw ``httpx`` traceback (``httpx.ConnectError`` is no ``OSError``) or a cell that
    never ends. A repository id outside the token's namespaces (the user and its organisations; the
    placeholder :data:`PLACEHOLDER_USER`, say) gives the name to write instead. An upload can still fail
    later (no rights on the repository); it then raises itself.

    Args:
        repo_ids: the repositories the upload will write (``"user/name"``); none: only the token is checked.
        token: a Hub token; default the saved login or ``HF_TOKEN``.
        timeout: seconds for the Hub to answer.
    """
    from huggingface_hub import constants, get_session, get_token
    from huggingface_hub.utils import build_hf_headers

    if constants.HF_HUB_OFFLINE:
        return False, ("offline mode (HF_HUB_OFFLINE=1). With a network, start JupyterLab with "
                       "WORKSHOP_MODELS=hub, log in with `hf auth login` and run the cell again")
    token = token or get_token()
    if not token:
        return False, "no Hugging Face token. Run `hf auth login` (or set HF_TOKEN) and run the cell again"
    url = f"{constants.ENDPOINT}/api/whoami-v2"
    try:
        response = get_session().get(url, headers=build_hf_headers(token=token), timeout=timeout)
    except Exception as err:  # httpx's ConnectError, ReadTimeout, ProxyError ... (not OSError subclasses)
        first = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)[:120]
        return False, (f"the Hub at {constants.ENDPOINT} cannot be reached within {timeout:.0f} s "
                       f"({type(err).__name__}: {first}). Check the network (or HTTPS_PROXY) and run the cell again")
    if response.status_code == 401:
        return False, "the Hub refused the token. Log in again with `hf auth login` and run the cell again"
    if response.status_code >= 400:
        return False, f"the Hub answered {response.status_code} at {url}. Try again later"
    try:
        who = response.json()
    except ValueError:
        who = {}
    user = who.get("name") if isinstance(who, dict) else None
    if user and repo_ids:
        namespaces = {user} | {o.get("name") for o in who.get("orgs") or [] if isinstance(o, dict)}
        foreign = [r for r in repo_ids if "/" in r and r.split("/", 1)[0] not in namespaces]
        if foreign:
            return False, (f"{', '.join(foreign)} is not in your namespace: you are logged in as {user!r}. "
                           f"Set HUB_USER = {user!r} and run the cells again")
    return True, ""
