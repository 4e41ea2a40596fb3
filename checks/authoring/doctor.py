"""``make doctor``: a pre-flight check of this machine for the workshop, in under 30 seconds.

A learner runs it before the workshop (an instructor asks the room for it) and pastes its report into a bug report::

    .venv/bin/python -m checks.authoring.doctor

It reports Python, the platform (Colab, Binder, a dev container or a plain machine), free disk, memory, the CPU's
instruction set and the precision it implies, the prepared models, the Jupyter kernel, library versions against the
pins and the expected minutes of the challenge's computing, measured with a few training steps
(:func:`helpers.challenge.pace.measure_pace`, about 5 s). It exits with status 1 and one line per problem when
something would stop a notebook (see :data:`SUPPORTED_PYTHON`, :data:`MIN_FREE_DISK_BYTES`,
:data:`MIN_AVAILABLE_MEMORY_BYTES`), else 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import helpers  # noqa: F401  (first: it points the Hugging Face libraries at the workshop's offline cache)
from checks.authoring.run_notebooks import KERNEL_NAME
from checks.course import NOTEBOOKS, Notebook, notebook
from helpers.colab import COLAB_VARIABLE
from helpers.paths import REPO_ROOT, SOLUTIONS_DIR, WORKSHOP_CACHE

SUPPORTED_PYTHON: tuple[tuple[int, int], tuple[int, int]] = ((3, 11), (3, 13))
"""Oldest and newest Python (major, minor) the pins install on: the Makefile's ``setup`` refuses others (3.10 fails to
resolve, see ``make resolve``) and pyproject.toml says ``requires-python = ">=3.11"``."""
MIN_FREE_DISK_BYTES = 3 * 10**9
"""Free bytes needed where the repository and the model cache live: the models (about 0.4 GB), the challenge's
adapters and full fine-tuning checkpoint (about 0.6 GB), build/ and head room."""
MIN_AVAILABLE_MEMORY_BYTES = 4 * 10**9
"""Available memory (bytes) the challenge's full fine-tuning and a JupyterLab with five kernels need."""
KERNEL_DISPLAY_NAME = "Python (transformers-workshop)"
"""Its name in JupyterLab's kernel menu (the Makefile's ``--display-name``)."""
BINDER_VARIABLES = ("BINDER_REPO_URL", "BINDER_LAUNCH_HOST", "BINDER_REF_URL", "BINDER_REQUEST",
                    "BINDER_SERVICE_HOST")
"""Environment variables BinderHub's spawner sets in every server it launches (``BinderSpawnerMixin.get_env``,
https://github.com/jupyterhub/binderhub/blob/main/binderhub/binderspawner_mixin.py), and the Kubernetes service
variable of mybinder.org's ``binder`` service."""
CHALLENGE_PART = "challenge"
"""The notebook :func:`helpers.challenge.pace.measure_pace` estimates (a part of :data:`checks.course.NOTEBOOKS`)."""


@dataclass
class Section:
    """One part of the report.

    Attributes:
        title: the label at the start of its lines, e.g. ``"Memory"``.
        lines: what was measured, one line each (no trailing newline).
        problems: one line per problem found, each saying what to do.
    """

    title: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def human_bytes(count: float) -> str:
    """``count`` bytes in decimal units: ``"812 MB"``, ``"3.2 GB"`` (1 GB = 10**9 bytes, as disks are sold)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000:
            return f"{count:.0f} {unit}" if unit in ("B", "kB", "MB") else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


def shown(path: Path) -> str:
    """``path`` with the home folder written ``~`` (a report pasted in public need not name the user's folder)."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if home not in ("", "/") and text.startswith(home) else text


def check_python(version: tuple[int, int, int] | None = None) -> Section:
    """The running Python's version and where it lives; a problem outside :data:`SUPPORTED_PYTHON`.

    Args:
        version: ``(major, minor, micro)`` (default: ``sys.version_info``); for tests.
    """
    major, minor, micro = version or tuple(sys.version_info[:3])
    section = Section("Python", [f"{major}.{minor}.{micro} ({shown(Path(sys.executable))})"])
    (low, high) = SUPPORTED_PYTHON
    if not low <= (major, minor) <= high:
        section.problems.append(
            f"Python {major}.{minor} is not supported: the pins install on {low[0]}.{low[1]} to {high[0]}.{high[1]} "
            f"(3.11 is the tested one). Install one of them and run `make setup PYTHON=python3.11`.")
    return section


def detect_platform(environ: Mapping[str, str] | None = None, *, on_colab: bool | None = None,
                    dockerenv: Path = Path("/.dockerenv")) -> str:
    """Where the workshop runs: ``"Colab"``, ``"Binder"``, ``"Codespaces"``, ``"dev container"`` or ``"plain"``.

    Args:
        environ: environment variables (default: ``os.environ``); for tests.
        on_colab: whether this is a Colab kernel (default: :func:`helpers.colab.on_colab`); for tests. A process a
            Colab cell starts (``!python -m checks.authoring.doctor``) has not loaded ``google.colab``:
            :data:`helpers.colab.COLAB_VARIABLE` tells it.
        dockerenv: the file Docker creates at the root of every container.

    ``CODESPACES=true`` marks GitHub Codespaces (https://docs.github.com/en/codespaces/developing-in-a-codespace/
    default-environment-variables-for-your-codespace), ``REMOTE_CONTAINERS=true`` VS Code's Dev Containers.
    """
    from helpers.colab import on_colab as colab_check

    environ = os.environ if environ is None else environ
    if (colab_check() if on_colab is None else on_colab) or environ.get(COLAB_VARIABLE):
        return "Colab"
    if any(environ.get(name) for name in BINDER_VARIABLES):
        return "Binder"
    if environ.get("CODESPACES") == "true":
        return "Codespaces"
    if environ.get("REMOTE_CONTAINERS") == "true" or dockerenv.exists():
        return "dev container"
    return "plain"


def check_platform(name: str | None = None) -> Section:
    """The platform (:func:`detect_platform`) and the operating system; never a problem."""
    name = name or detect_platform()
    return Section("Platform", [f"{name} ({platform.system()} {platform.release()}, {platform.machine()})"])


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (the model cache may not exist before ``make models``)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(paths: Mapping[str, Path] | None = None,
               free_bytes: Callable[[Path], int] | None = None) -> Section:
    """Free bytes on the file system of each of ``paths``; a problem under :data:`MIN_FREE_DISK_BYTES`.

    Args:
        paths: label -> folder (default: the repository and the model cache, :data:`helpers.paths.WORKSHOP_CACHE`).
        free_bytes: bytes free on a path's file system (default: ``shutil.disk_usage(path).free``); for tests.
    """
    paths = paths or {"repository": REPO_ROOT, "model cache": WORKSHOP_CACHE}
    free_bytes = free_bytes or (lambda path: shutil.disk_usage(path).free)
    section = Section("Disk")
    for label, path in paths.items():
        free = free_bytes(_existing(path))
        section.lines.append(f"{human_bytes(free)} free for the {label} ({shown(path)})")
        if free < MIN_FREE_DISK_BYTES:
            section.problems.append(
                f"Only {human_bytes(free)} free for the {label} ({shown(path)}); the workshop needs "
                f"{human_bytes(MIN_FREE_DISK_BYTES)}: free some space (WORKSHOP_CACHE_DIR moves the model cache).")
    return section


def check_memory(total_bytes: int | None = None, available_bytes: int | None = None) -> Section:
    """Total and available memory (``psutil.virtual_memory()``); a problem under :data:`MIN_AVAILABLE_MEMORY_BYTES`.

    Args:
        total_bytes, available_bytes: the measurements (default: psutil's); for tests.
    """
    if total_bytes is None or available_bytes is None:
        import psutil

        memory = psutil.virtual_memory()
        total_bytes, available_bytes = memory.total, memory.available
    section = Section("Memory", [f"{human_bytes(total_bytes)} total, {human_bytes(available_bytes)} available"])
    if available_bytes < MIN_AVAILABLE_MEMORY_BYTES:
        section.problems.append(
            f"Only {human_bytes(available_bytes)} of memory available; the challenge needs "
            f"{human_bytes(MIN_AVAILABLE_MEMORY_BYTES)}: close other programs (browser tabs, other kernels).")
    return section


CPU_FEATURES: dict[str, tuple[str, ...]] = {
    "AVX2": ("avx2",),
    "AVX-512": ("avx512f",),
    "AVX-512 BF16": ("avx512_bf16",),
    "AMX": ("amx_bf16", "amx_tile"),
}
"""Instruction-set extension -> the ``/proc/cpuinfo`` flags that mark it (Linux's names)."""


def check_cpu() -> Section:
    """The CPU, its instruction-set extensions, torch's kernel choice and the precision they imply; never a problem.

    torch's choice (``torch.backends.cpu.get_cpu_capability()``) follows ``ATEN_CPU_CAPABILITY``, so the AVX2 stand-in
    shows ``AVX2`` although ``/proc/cpuinfo`` lists AVX-512; the precision follows torch's choice
    (:func:`helpers.device.mixed_precision`).
    """
    import torch

    from helpers.device import cpu_bf16_native, cpu_flags, cpu_model, pick_device, precision

    flags = cpu_flags()
    if flags:
        features = ", ".join(f"{name} {'yes' if set(marks) & flags else 'no'}" for name, marks in CPU_FEATURES.items())
    else:
        features = "instruction set not listed (no /proc/cpuinfo)"
    device = pick_device()
    chosen = precision(device)
    lines = [
        f"{cpu_model()}, {os.cpu_count()} logical cores, torch uses {torch.get_num_threads()} threads",
        f"{features}; torch kernels: {torch.backends.cpu.get_cpu_capability()}; "
        f"native bf16 matmuls: {'yes' if cpu_bf16_native() else 'no'}",
        f"device={device.type}, weights={str(chosen.dtype).removeprefix('torch.')}, training={chosen.training}",
    ]
    return Section("CPU", lines)


def check_models(missing: list[str] | None = None, *, mode: str | None = None) -> Section:
    """Whether the offline cache holds every workshop model, complete (:func:`helpers.models.is_prepared`).

    Reads the manifests, file sizes and safetensors headers; rebuilds nothing. A missing or damaged model is a problem
    whose fix is ``make models``. In Hub mode (``WORKSHOP_MODELS=hub``) the models come from the Hub and are not
    checked.

    Args:
        missing: the ids not prepared (default: :func:`helpers.models.missing_models`); for tests.
        mode: ``"offline"`` or ``"hub"`` (default: :func:`helpers.env.model_source`); for tests.
    """
    from helpers import env
    from helpers.models import CATALOG, repo_folder
    from helpers.paths import HUB_CACHE_DIR

    mode = mode or env.model_source()
    if mode == "hub":
        return Section("Models", ["WORKSHOP_MODELS=hub: downloaded from the Hub when first loaded (not checked)"])
    if missing is None:
        from helpers.models import missing_models

        missing = missing_models()
    section = Section("Models", [f"{len(CATALOG) - len(missing)} of {len(CATALOG)} prepared in "
                                f"{shown(HUB_CACHE_DIR)}"])
    for model_id in missing:
        state = "damaged or out of date" if repo_folder(model_id).exists() else "missing"
        section.problems.append(f"Model {model_id} is {state} in the workshop's cache: run `make models`.")
    return section


def check_kernel(specs: Mapping[str, str] | None = None, display_name: str | None = None, *,
                 platform_name: str = "plain") -> Section:
    """Whether Jupyter lists the workshop's kernel (:data:`KERNEL_NAME`); a problem when it does not.

    On Colab the notebook runs in Colab's own kernel, so the kernel is not needed there.

    Args:
        specs: kernel name -> folder (default: ``KernelSpecManager().find_kernel_specs()``); for tests.
        display_name: the kernel's menu name (default: read from its ``kernel.json``); for tests.
        platform_name: what :func:`detect_platform` said.
    """
    if platform_name == "Colab":
        return Section("Kernel", ["Colab's own kernel (the workshop's kernel is not needed)"])
    if specs is None:
        from jupyter_client.kernelspec import KernelSpecManager

        manager = KernelSpecManager()
        specs = manager.find_kernel_specs()
        if KERNEL_NAME in specs and display_name is None:
            display_name = manager.get_kernel_spec(KERNEL_NAME).display_name
    if KERNEL_NAME not in specs:
        return Section("Kernel", [f"{KERNEL_DISPLAY_NAME!r} not installed"],
                       [f"The Jupyter kernel {KERNEL_DISPLAY_NAME!r} is not installed: run `make setup`."])
    return Section("Kernel", [f"{display_name or KERNEL_DISPLAY_NAME!r} installed ({shown(Path(specs[KERNEL_NAME]))})"])


def check_versions(drift: list[tuple[str, str | None, str]] | None = None) -> Section:
    """The key libraries' versions; one problem per library that differs from its pin (requirements.txt).

    Args:
        drift: ``(name, installed, pinned)`` triples (default: :func:`helpers.versions.version_drift`); for tests.
    """
    from helpers.versions import KEY_PACKAGES, installed_version, version_drift

    drift = version_drift() if drift is None else drift
    versions = ", ".join(f"{name} {installed_version(name) or 'missing'}" for name in KEY_PACKAGES)
    section = Section("Libraries", [versions, "match the pins" if not drift else f"{len(drift)} differ from the pins"])
    for name, installed, pinned in drift:
        section.problems.append(f"{name} {installed or 'is not installed'} differs from its pin {pinned}: "
                                "run `make setup` and restart the kernel.")
    return section


def check_pace(measure: Callable[[], object] | None = None, *, models_ready: bool = True) -> Section:
    """Expected minutes of the challenge's computing here, from a few measured LoRA steps (about 5 s).

    Only 04 · LoRA challenge is measured (:func:`helpers.challenge.pace.measure_pace`, the estimate its set-up cell
    prints); the other phases compute for a minute or less and are not measured. A failed measurement is a problem.

    Args:
        measure: returns a :class:`helpers.challenge.pace.Pace` (default: ``measure_pace``); for tests.
        models_ready: whether the chat model is prepared (the measurement loads it); if not, nothing is measured.
    """
    section = Section("Pace")
    if not models_ready:
        section.lines.append("not measured: it needs the chat model (see Models)")
        return section
    if measure is None:
        from helpers.challenge.pace import measure_pace

        measure = measure_pace
    try:
        pace = measure()
    except Exception as error:  # any failure here is what a learner would meet in the challenge: report it
        section.problems.append(f"Timing a LoRA training step failed ({type(error).__name__}: "
                                f"{str(error).splitlines()[0] if str(error) else 'no message'}); "
                                "run `make models`, then `make doctor` again, and paste both outputs in an issue.")
        return section
    estimates: dict[str, float] = pace.estimates
    bonus = sum(seconds for name, seconds in estimates.items() if name.startswith("Bonus"))
    stored = ", ".join(f"{row.number} {seconds:.0f} s" for row, seconds in stored_compute_s().items()
                       if row.part != CHALLENGE_PART)
    section.lines += [
        f"one LoRA step {pace.seconds_per_step:.2f} s (measured in {pace.measured_s:.0f} s)",
        f"{notebook(CHALLENGE_PART).number} LoRA challenge (measured here): core {pace.core_s / 60:.1f} min of "
        "computing, "
        f"bonuses {bonus / 60:.1f} min"
        + ("; the faster setting (fewer adapted blocks) will be chosen" if pace.fast else ""),
        f"other phases not measured; their solutions' stored runs computed {stored or 'no stored timings'}",
    ]
    return section


def stored_compute_s(folder: Path | None = None) -> dict[Notebook, float]:
    """Seconds each phase's solution notebook computed when it was last executed, from its cells' metadata.

    Sums every code cell's ``metadata.execution`` span, ``iopub.execute_input`` to ``shell.execute_reply`` (the
    timestamps JupyterLab and nbclient record with ``record_timing``). Those runs were on the machine that executed
    the solutions last, not necessarily this one. A phase without a notebook or timings is left out.

    Args:
        folder: where the notebooks are (default: :data:`helpers.paths.SOLUTIONS_DIR`).

    Returns:
        :class:`checks.course.Notebook` -> seconds.
    """
    import json

    from checks.authoring.run_notebooks import cell_seconds

    folder = folder or SOLUTIONS_DIR
    result: dict[Notebook, float] = {}
    for row in NOTEBOOKS:
        notebooks = sorted(folder.glob(f"{row.prefix}*.ipynb"))
        if not notebooks:
            continue
        total, timed = 0.0, False
        for cell in json.loads(notebooks[0].read_text(encoding="utf-8")).get("cells", []):
            seconds = cell_seconds(cell)
            if seconds is not None:
                total, timed = total + seconds, True
        if timed:
            result[row] = total
    return result


def run_checks(*, measure: Callable[[], object] | None = None) -> list[Section]:
    """Every section of the report, in order (the pace last: it is the slow one)."""
    platform_name = detect_platform()
    models = check_models()
    return [
        check_python(),
        check_platform(platform_name),
        check_disk(),
        check_memory(),
        check_cpu(),
        models,
        check_kernel(platform_name=platform_name),
        check_versions(),
        check_pace(measure, models_ready=not models.problems),
    ]


def render(sections: list[Section], seconds: float) -> str:
    """The report: one aligned line per measurement, then ``Problems: none`` or one line per problem."""
    width = max(len(section.title) for section in sections) + 2
    lines = [f"Workshop doctor ({time.strftime('%Y-%m-%d %H:%M')}, {seconds:.0f} s). Paste all of this into an issue."]
    for section in sections:
        for index, line in enumerate(section.lines or [""]):
            lines.append(f"{section.title if index == 0 else '':<{width}}{line}")
    problems = [problem for section in sections for problem in section.problems]
    lines.append(f"Problems: {len(problems) or 'none'}")
    lines += [f"  PROBLEM: {problem}" for problem in problems]
    return "\n".join(lines)


def _seconds_since_start() -> float:
    """Seconds since this process started (imports included: what a learner waits for)."""
    import psutil

    return time.time() - psutil.Process().create_time()


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 1 when there is a problem, else 0."""
    argparse.ArgumentParser(prog="python -m checks.authoring.doctor",
                            description=__doc__.splitlines()[0]).parse_args(argv)
    sections = run_checks()
    print(render(sections, _seconds_since_start()))
    return 1 if any(section.problems for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
