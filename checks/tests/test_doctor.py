"""``make doctor`` (checks.authoring.doctor): the report's sections, the thresholds and the exit status, with every
measurement monkeypatched (no model is loaded, nothing is timed)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import helpers.challenge.pace as pace_module
import helpers.models
import helpers.versions
from checks.authoring import doctor
from checks.course import NOTEBOOKS
from helpers.challenge.pace import CELL_STEPS, DEFAULT_LAYERS, Pace

GB = 10**9
SECTIONS = ("Python", "Platform", "Disk", "Memory", "CPU", "Models", "Kernel", "Libraries", "Pace")


def _pace(step: float = 1.0) -> Pace:
    return Pace(seconds_per_step=step, fast_seconds_per_step=None, adapted_layers=DEFAULT_LAYERS, measured_s=4.0,
                estimates={name: steps * step for name, steps in CELL_STEPS.items()})


@pytest.fixture
def machine(monkeypatch):
    """A clean machine: plenty of disk and memory, models prepared, the kernel installed, no drift, a 1 s step.

    Returns a namespace whose attributes a test changes to make one problem.
    """
    state = SimpleNamespace(free=50 * GB, total=16 * GB, available=8 * GB, missing=[], kernels=True, drift=[],
                            pace=_pace(), pace_calls=0)
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: SimpleNamespace(free=state.free))
    import psutil

    monkeypatch.setattr(psutil, "virtual_memory",
                        lambda: SimpleNamespace(total=state.total, available=state.available))
    monkeypatch.setattr(helpers.models, "missing_models", lambda cache=None: list(state.missing))
    monkeypatch.setattr(helpers.versions, "version_drift", lambda packages=None: list(state.drift))
    monkeypatch.setenv("WORKSHOP_MODELS", "offline")

    from jupyter_client.kernelspec import KernelSpecManager

    def find_kernel_specs(self):
        return {doctor.KERNEL_NAME: "/k/transformers-workshop"} if state.kernels else {"python3": "/k/python3"}

    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs", find_kernel_specs)
    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec",
                        lambda self, name: SimpleNamespace(display_name=doctor.KERNEL_DISPLAY_NAME))

    def measure():
        state.pace_calls += 1
        if isinstance(state.pace, Exception):
            raise state.pace
        return state.pace

    monkeypatch.setattr(pace_module, "measure_pace", measure)
    return state


def _problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip().startswith("PROBLEM:")]


def test_a_clean_machine_exits_0_with_every_section(machine, capsys):
    assert doctor.main([]) == 0
    output = capsys.readouterr().out
    titles = {line.split()[0] for line in output.splitlines()[1:] if line and not line.startswith(" ")}
    assert set(SECTIONS) <= titles, output
    assert "Problems: none" in output
    assert _problem_lines(output) == []
    assert "50.0 GB free for the repository" in output and "16.0 GB total, 8.0 GB available" in output
    assert "2 of 2 prepared" in output
    assert "one LoRA step 1.00 s" in output and "core 2.9 min" in output  # 172 steps of 1 s
    assert machine.pace_calls == 1


@pytest.mark.parametrize(("change", "expected"), [
    ({"free": 2 * GB}, "free some space"),
    ({"available": 3 * GB}, "close other programs"),
    ({"missing": ["HuggingFaceTB/SmolLM2-135M-Instruct"]}, "run `make models`"),
    ({"kernels": False}, "'Python (transformers-workshop)' is not installed: run `make setup`"),
    ({"drift": [("transformers", "4.57.0", "5.23.0")]}, "transformers 4.57.0 differs from its pin 5.23.0"),
    ({"pace": RuntimeError("out of memory\nlong library traceback")}, "Timing a LoRA training step failed"),
])
def test_each_problem_gives_one_line_and_exit_1(machine, capsys, change, expected):
    if "free" in change:  # the repository and the model cache share the patched disk: one line each
        machine.free = change["free"]
    else:
        for name, value in change.items():
            setattr(machine, name, value)
    assert doctor.main([]) == 1
    output = capsys.readouterr().out
    problems = _problem_lines(output)
    assert problems, output
    assert all(expected in line for line in problems), problems
    assert f"Problems: {len(problems)}" in output
    assert "Traceback" not in output and "long library traceback" not in output
    assert len(problems) == (2 if "free" in change else 1)


def test_missing_models_skip_the_timing(machine, capsys):
    machine.missing = list(helpers.models.CATALOG)
    assert doctor.main([]) == 1
    output = capsys.readouterr().out
    assert machine.pace_calls == 0
    assert "not measured: it needs the chat model" in output
    assert len(_problem_lines(output)) == len(helpers.models.CATALOG)


def test_damaged_differs_from_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(helpers.models, "HUB_CACHE_DIR", tmp_path)
    helpers.models.repo_folder("org/damaged").mkdir(parents=True)
    section = doctor.check_models(["org/damaged", "org/absent"], mode="offline")
    assert section.problems == [
        "Model org/damaged is damaged or out of date in the workshop's cache: run `make models`.",
        "Model org/absent is missing in the workshop's cache: run `make models`.",
    ]


def test_hub_mode_does_not_check_the_offline_cache():
    section = doctor.check_models(["org/absent"], mode="hub")
    assert section.problems == [] and "WORKSHOP_MODELS=hub" in section.lines[0]


@pytest.mark.parametrize(("version", "ok"), [((3, 10, 14), False), ((3, 11, 7), True), ((3, 13, 1), True),
                                             ((3, 14, 0), False)])
def test_python_range(version, ok):
    problems = doctor.check_python(version).problems
    assert (problems == []) is ok
    assert all("\n" not in line and "make setup PYTHON=python3.11" in line for line in problems)


@pytest.mark.parametrize(("environ", "colab", "dockerenv", "expected"), [
    ({}, True, False, "Colab"),
    ({"COLAB_RELEASE_TAG": "release-colab-20261201"}, False, True, "Colab"),
    ({"BINDER_LAUNCH_HOST": "https://mybinder.org/"}, False, True, "Binder"),
    ({"CODESPACES": "true"}, False, True, "Codespaces"),
    ({"REMOTE_CONTAINERS": "true"}, False, False, "dev container"),
    ({}, False, True, "dev container"),
    ({}, False, False, "plain"),
])
def test_detect_platform(tmp_path, environ, colab, dockerenv, expected):
    marker = tmp_path / ".dockerenv"
    if dockerenv:
        marker.touch()
    assert doctor.detect_platform(environ, on_colab=colab, dockerenv=marker) == expected


def test_colab_needs_no_workshop_kernel():
    assert doctor.check_kernel({}, platform_name="Colab").problems == []
    assert doctor.check_kernel({}, platform_name="plain").problems


def test_disk_of_a_cache_not_yet_created_is_its_parents(tmp_path):
    seen = []
    section = doctor.check_disk({"model cache": tmp_path / "not" / "yet"}, lambda path: seen.append(path) or 5 * GB)
    assert seen == [tmp_path] and section.problems == []


@pytest.mark.parametrize(("count", "text"), [(512, "512 B"), (812_000_000, "812 MB"), (3_200_000_000, "3.2 GB"),
                                             (2.5e12, "2.5 TB")])
def test_human_bytes(count, text):
    assert doctor.human_bytes(count) == text


def test_stored_compute_sums_cell_spans(tmp_path):
    def cell(start: str, end: str) -> dict:
        return {"cell_type": "code", "metadata": {"execution": {"iopub.execute_input": start,
                                                                "shell.execute_reply": end}}}

    cells = [cell("2026-12-01T10:00:00.000Z", "2026-12-01T10:00:02.500Z"),
             cell("2026-12-01T10:00:03.000Z", "2026-12-01T10:00:13.000Z"),
             {"cell_type": "markdown", "metadata": {}}]
    Path(tmp_path, f"{NOTEBOOKS[0].prefix}_x.ipynb").write_text(json.dumps({"cells": cells}))
    Path(tmp_path, f"{NOTEBOOKS[1].prefix}_y.ipynb").write_text(json.dumps({"cells": [{"metadata": {}}]}))
    assert doctor.stored_compute_s(tmp_path) == {NOTEBOOKS[0]: 12.5}


def test_cpu_section_follows_torchs_kernel_choice(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    lines = doctor.check_cpu().lines
    assert "torch kernels: AVX2" in lines[1] and "native bf16 matmuls: no" in lines[1]
    assert "training=float32" in lines[2]
