"""make gpu-check: the no-GPU line, the steps that also run on a CPU, the table, the exit status, make gpu-wheels.

The GPU itself is not here: these tests run the step functions with ``device=cpu`` (Trainer with ``use_cpu``) on the
tiny model, so the code a GPU machine runs is the code tested, only the device differs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
import torch

from checks.bench import gpu_check as g
from helpers.paths import REPO_ROOT

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tokenizer():
    """The tokenizer built in code (what a GPU machine without the workshop's cache uses): no cache needed here."""
    return g.build_fallback_tokenizer()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tokenizer):
    return g.save_tiny_llama(tmp_path_factory.mktemp("tiny"), tokenizer)


def test_without_cuda_it_prints_one_line_and_passes(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(g, "run_gpu_check", lambda *a, **k: pytest.fail("no step may run without a GPU"))
    assert g.main([]) == 0
    assert capsys.readouterr().out == g.NO_GPU_LINE + "\n"


def test_the_command_without_cuda_exits_0_with_the_line():
    done = subprocess.run([sys.executable, "-m", "checks.bench.gpu_check"], capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == g.NO_GPU_LINE


def test_fallback_tokenizer_round_trips_text(tokenizer):
    ids = tokenizer("The capital of France is Paris.")["input_ids"]
    assert tokenizer.decode(ids) == "The capital of France is Paris."
    assert tokenizer.pad_token_id is not None and tokenizer.padding_side == "left"


def test_tiny_llama_has_quantizable_projections(tokenizer):
    model = g.tiny_llama(tokenizer)
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    linears = [m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"]
    outputs = {m.out_features for m in linears}
    assert outputs <= {64, 128}  # bitsandbytes' CPU 4-bit kernel needs multiples of its block (16 fails)


def test_generate_step_makes_the_asked_tokens(tokenizer):
    assert g.check_generate(g.tiny_llama(tokenizer), tokenizer, CPU, new_tokens=5).startswith("5 greedy tokens")


def test_lora_steps_train_with_the_trainer_on_cpu(model_dir):
    detail = g.check_lora_steps(model_dir, CPU, "no", steps=3)
    assert detail.startswith("3 steps (float32), loss ")


@pytest.mark.parametrize(("bits", "layer"), [(8, "Linear8bitLt"), (4, "Linear4bit")])
def test_quantized_loads_replace_the_linear_layers(model_dir, bits, layer):
    detail = g.check_quantized_load(model_dir, bits, CPU, torch.float32)
    assert detail.startswith(f"14 {layer} layers")  # 7 projections in each of the 2 blocks


def test_qlora_step_trains_only_the_adapters(model_dir):
    detail = g.check_qlora_step(model_dir, CPU, "no", torch.float32)
    assert "8,192 trainable parameters" in detail  # r=8 on q, k, v, o of 2 blocks: 2 * 4 * 8 * (64 + 64)


def test_memory_step_measures_a_training_step(model_dir):
    assert g.check_memory(model_dir, CPU, "no").startswith("peak ")


def test_a_failing_step_is_one_row_not_a_traceback():
    def broken() -> str:
        raise RuntimeError("CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported")

    row = g.run_step("load 4-bit", broken)
    assert (row.step, row.result) == ("load 4-bit", "FAIL")
    assert row.detail == "RuntimeError: CUDA error: out of memory"


def test_table_and_exit_status(monkeypatch, capsys):
    rows = [g.Row("precision", "ok", 0.5, "cuda (H100): weights bfloat16"), g.Row("load 8-bit", "FAIL", 1.25, "x")]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(g, "run_gpu_check", lambda *a, **k: rows)
    assert g.main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["step", "result", "seconds", "detail"]
    assert out[2].split()[:4] == ["load", "8-bit", "FAIL", "1.25"]
    assert "failed: load 8-bit" in out[-1]
    monkeypatch.setattr(g, "run_gpu_check", lambda *a, **k: rows[:1])
    assert g.main([]) == 0


def test_bitsandbytes_installed_or_a_line_saying_what_to_run(monkeypatch, tmp_path):
    assert g.ensure_bitsandbytes(tmp_path).endswith("already installed")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    with pytest.raises(g.GpuCheckError, match="run make gpu-wheels"):
        g.ensure_bitsandbytes(tmp_path)


# --------------------------------------------------------------------------- make gpu-wheels


def test_pin_is_read_from_requirements(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("accelerate==1.15.0\nBitsAndBytes == 0.50.2  # comment\n")
    assert g.pinned_version("bitsandbytes", requirements) == "0.50.2"
    with pytest.raises(ValueError, match="does not pin peft"):
        g.pinned_version("peft", requirements)
    assert g.pinned_version("bitsandbytes")  # the repository's own file pins it


def test_wheels_command_downloads_the_linux_wheel_only():
    command = g.wheels_command("DIR", "0.50.2")
    assert command[1:4] == ["-m", "pip", "download"]
    for arg in ("--no-deps", "--only-binary=:all:", "bitsandbytes==0.50.2"):
        assert arg in command
    assert command[command.index("--platform") + 1] == "manylinux_2_24_x86_64"
    assert command[command.index("-d") + 1] == "DIR"


def _fake_pip(size: int, returncode: int = 0):
    def run(command, **kwargs):
        folder = command[command.index("-d") + 1]
        with open(f"{folder}/bitsandbytes-0.50.2-py3-none-manylinux_2_24_x86_64.whl", "wb") as wheel:
            wheel.truncate(size)  # sparse: the apparent size counts, no disk is used
        return subprocess.CompletedProcess(command, returncode, "", "ERROR: No matching distribution found")
    return run


def test_fill_wheels_keeps_a_folder_under_the_limit(tmp_path):
    wheels = g.fill_wheels(tmp_path / "w", run=_fake_pip(43_000_000))
    assert [w.name for w in wheels] == ["bitsandbytes-0.50.2-py3-none-manylinux_2_24_x86_64.whl"]


def test_fill_wheels_refuses_a_folder_over_60_mb(tmp_path):
    with pytest.raises(ValueError, match=r"61\.0 MB, over the 60 MB limit"):
        g.fill_wheels(tmp_path / "w", run=_fake_pip(61_000_000))
    # already over the limit: refused before any download
    with pytest.raises(ValueError, match=r"already holds 61\.0 MB"):
        g.fill_wheels(tmp_path / "w", run=lambda *a, **k: pytest.fail("must not download"))


def test_fill_wheels_says_when_pip_failed(tmp_path, capsys, monkeypatch):
    with pytest.raises(ValueError, match=r"pip download failed .*No matching distribution"):
        g.fill_wheels(tmp_path / "w", run=_fake_pip(10, returncode=1))
    monkeypatch.setattr(g, "fill_wheels", lambda folder: (_ for _ in ()).throw(ValueError("over the limit")))
    assert g.main(["--wheels", str(tmp_path / "w")]) == 1
    assert capsys.readouterr().out == "error: over the limit\n"
