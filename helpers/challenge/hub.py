"""Whether an upload to the Hugging Face Hub can happen here, and the names of what the challenge shares.

The learner writes the sharing code (``ModelCardData``, ``ModelCard``, ``HfApi.upload_folder``,
``DatasetDict.push_to_hub``). What is not the lesson lives here: deciding, before anything is
attempted, whether this machine can upload at all, so that an offline room gets one clear
sentence instead of a network traceback::

    can_upload, reason = upload_status()
    if can_upload:
        HfApi().upload_folder(repo_id=HUB_REPO_ID, folder_path=MODEL_REPO_DIR)
    else:
        print(f"Nothing was uploaded: {reason}")
"""

from __future__ import annotations

LICENSE = "apache-2.0"
"""SmolLM2-135M-Instruct's licence; an adapter trained on it is shared under the same one."""
DATA_FILE_PATTERN = "data/{split}-00000-of-00001.parquet"
"""Where ``DatasetDict.push_to_hub`` puts each split in a data set repository (one shard per split);
a folder laid out like this loads with ``load_dataset(folder)``."""


def upload_status(token: str | None = None) -> tuple[bool, str]:
    """``(True, "")`` when an upload can be attempted, else ``(False, why not and what to do)``.

    Nothing touches the network: offline mode (``HF_HUB_OFFLINE=1``, the workshop's default,
    read by ``huggingface_hub`` when it is imported) and a missing token (``hf auth login`` or
    ``HF_TOKEN``) are both known in advance. A refused upload (no network, no rights) still
    raises from the upload call itself.

    Args:
        token: a Hub token; default the saved login or ``HF_TOKEN``.
    """
    from huggingface_hub import constants, get_token

    if constants.HF_HUB_OFFLINE:
        return False, ("offline mode (HF_HUB_OFFLINE=1). With a network, start JupyterLab with "
                       "WORKSHOP_MODELS=hub, log in with `hf auth login` and run the cell again")
    if not (token or get_token()):
        return False, "no Hugging Face token. Run `hf auth login` (or set HF_TOKEN) and run the cell again"
    return True, ""
