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


PROBE_TIMEOUT_S = 5.0
"""Seconds to wait for the Hub to answer before saying it cannot be reached (``huggingface_hub``'s own HTTP client
has no timeout: an endpoint that accepts a connection and never answers would hang ``create_repo`` for ever)."""


def upload_status(token: str | None = None, *, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """``(True, "")`` when an upload can be attempted, else ``(False, why not and what to do)``.

    Offline mode (``HF_HUB_OFFLINE=1``, the workshop's default, read by ``huggingface_hub`` when it
    is imported) and a missing token (``hf auth login`` or ``HF_TOKEN``) are known without the
    network. Otherwise one request asks the Hub who the token belongs to (``/api/whoami-v2``), within
    ``timeout`` seconds: no network, a proxy that never answers or a refused token give one sentence
    here instead of a raw ``httpx`` traceback (``httpx.ConnectError`` is no ``OSError``) or a cell that
    never ends. An upload can still fail later (no rights on the repository); it then raises itself.

    Args:
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
    return True, ""
