"""helpers.challenge: the results file, batched answers, the memory probe; and the solution's inference script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from helpers.challenge import memory_probe as probe
from helpers.challenge import probe_child, probe_records
from helpers.challenge import results as cr
from helpers.challenge import training as lt
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT, SOLUTIONS_DIR

# ------------------------------------------------------------------- results file


def test_update_results_merges_runs_into_the_challenge_schema(tmp_path):
    path = tmp_path / "out" / "results.json"
    lora = {"base_model": "HuggingFaceTB/SmolLM2-135M-Instruct", "epochs": 3, "total_params": 139_399_488,
            "trainable_params": {"lora": 4_884_480},
            "metrics": {"base": {"exact_match": 0.0, "valid_json": 0.0}, "lora": {"exact_match": 0.9}},
            "peak_memory_bytes": {"lora": 2 * 2**30}, "train_seconds": {"lora": 100.5},
            "checkpoint_bytes": {"lora": 19_593_064}}
    cr.update_results(lora, path)
    merged = cr.update_results({"trainable_params": {"qlora": 4_884_480}, "metrics": {"qlora": {"exact_match": 0.8}},
                                "peak_memory_bytes": {"qlora": 2**30}}, path)
    assert merged == json.loads(path.read_text())
    assert merged["metrics"].keys() == {"base", "lora", "qlora"}
    assert merged["trainable_params"] == {"lora": 4_884_480, "qlora": 4_884_480}
    results = cr.load_challenge_results(path)
    assert results.found and results.base_exact_match == 0.0 and results.epochs == 3
    assert results.strategies["lora"].exact_match == 0.9 and results.strategies["qlora"].exact_match == 0.8
    assert results.strategies["lora"].checkpoint_bytes == 19_593_064
    path.write_text("{broken")
    assert cr.update_results({"epochs": 1}, path) == {"epochs": 1}


def test_generate_answers_wants_a_list_of_messages():
    with pytest.raises(TypeError, match="sequence of strings"):
        lt.generate_answers(torch.nn.Linear(1, 1), None, "one message")


def test_generate_answers_refuses_a_model_in_training_mode():
    """trainer.train() leaves the model in training mode; the helper says so instead of hiding it."""
    with pytest.raises(ValueError, match=r"training mode .* call model.eval\(\)"):
        lt.generate_answers(torch.nn.Linear(1, 1).train(), None, ["a message"])


# ------------------------------------------------------------ memory measurement

SOLUTION_SCRIPT = SOLUTIONS_DIR / "answer_tickets.py"


@pytest.fixture(scope="module")
def batch(tokenizer, rows):
    """A collated batch of two tickets, as the learner's collator makes it."""
    from transformers import DataCollatorForSeq2Seq

    examples = []
    for row in rows[:2]:
        ids = tokenizer(row["message"])["input_ids"][:24]
        examples.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [-100] * 8 + ids[8:]})
    return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100)(examples)


@pytest.fixture(scope="module")
def lora_config():
    from peft import LoraConfig

    return LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])


def test_measure_training_memory_rejects_bad_arguments(batch, lora_config):
    with pytest.raises(ValueError, match="mode"):
        probe.measure_training_memory("prefix", batch=batch)
    with pytest.raises(ValueError, match="lora_config"):
        probe.measure_training_memory("lora", batch=batch)
    with pytest.raises(ValueError, match="BitsAndBytesConfig"):
        probe.measure_training_memory("qlora", batch=batch, lora_config=lora_config)
    with pytest.raises(ValueError, match="steps"):
        probe.measure_training_memory("full", batch=batch, steps=0)
    with pytest.raises(ValueError, match="collator's output"):
        probe.measure_training_memory("full", batch={"input_ids": batch["input_ids"]})


def test_the_probe_spec_holds_the_learners_configs(tmp_path, batch, lora_config):
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig

    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                             bnb_4bit_compute_dtype=torch.float32)
    spec = probe_child.write_probe_spec(tmp_path, batch=batch, lora_config=lora_config, quantization_config=bnb)
    saved = torch.load(spec / probe_child.BATCH_FILE)
    assert all(torch.equal(saved[k], batch[k]) for k in ("input_ids", "attention_mask", "labels"))
    again = LoraConfig.from_pretrained(str(spec / probe_child.LORA_DIR))
    assert again.r == 4 and set(again.target_modules) == {"q_proj", "v_proj"}
    loaded = BitsAndBytesConfig.from_dict(json.loads((spec / probe_child.QUANTIZATION_FILE).read_text()))
    assert probe_child.spec_mixed_precision(spec) == "no"  # the default: fp32 steps
    assert loaded.load_in_4bit and loaded.bnb_4bit_quant_type == "nf4" and loaded.bnb_4bit_use_double_quant


def _fake_child(code: str):
    def command(mode, spec, steps, gradient_checkpointing):
        return [sys.executable, "-c", code.replace("MODE", mode)]
    return command


def test_measure_training_memory_reports_a_failed_child(monkeypatch, batch):
    monkeypatch.setattr(probe, "_memory_command", _fake_child("import sys; sys.exit('RuntimeError: out of memory')"))
    with pytest.raises(RuntimeError, match=r"(?s)failed \(exit code 1\).*out of memory"):
        probe.measure_training_memory("full", batch=batch)


def test_measure_training_memory_reports_a_timeout(monkeypatch, batch):
    monkeypatch.setattr(probe, "_memory_command", _fake_child("import time; time.sleep(30)"))
    with pytest.raises(RuntimeError, match=r"longer than 2 s"):
        probe.measure_training_memory("full", batch=batch, timeout=2)


def test_compare_training_memory_runs_the_modes_side_by_side(monkeypatch, batch, lora_config):
    code = ("import json, os, time; time.sleep(1); "
            "print(json.dumps({'mode': 'MODE', 'peak_bytes': 1, 'threads': os.environ['OMP_NUM_THREADS'], "
            "'pid': os.getpid()}))")
    monkeypatch.setattr(probe, "_memory_command", _fake_child(code))
    started = __import__("time").monotonic()
    results = probe.compare_training_memory(("lora", "full"), batch=batch, lora_config=lora_config)
    assert __import__("time").monotonic() - started < 1.9  # two 1 s children, not one after another
    assert list(results) == ["lora", "full"]
    assert {r["threads"] for r in results.values()} == {"1"} and len({r["pid"] for r in results.values()}) == 2


def test_compare_training_memory_names_the_failed_mode_and_stops_the_others(monkeypatch, batch, lora_config):
    code = ("import sys, time\nif 'MODE' == 'full':\n    sys.exit('out of memory')\ntime.sleep(30)")
    monkeypatch.setattr(probe, "_memory_command", _fake_child(code))
    with pytest.raises(RuntimeError, match=r"(?s)measuring full training memory failed.*out of memory"):
        probe.compare_training_memory(("full", "lora"), batch=batch, lora_config=lora_config, timeout=20)


@pytest.mark.parametrize("modes", [(), ("lora", "lora"), ("lora", "tiny")])
def test_compare_training_memory_rejects_bad_modes(modes, batch, lora_config):
    with pytest.raises(ValueError):
        probe.compare_training_memory(modes, batch=batch, lora_config=lora_config)


@pytest.mark.slow
def test_measure_training_memory_in_a_child_process(batch, lora_config):
    """The learner's LoraConfig and batch reach the child: its trainable count is that config's."""
    result = probe.measure_training_memory("lora", batch=batch, lora_config=lora_config, steps=3, timeout=300)
    assert {"mode", "peak_bytes", "seconds_per_step", "trainable_params"} <= result.keys()
    assert result["mode"] == "lora" and result["batch_size"] == 2
    assert result["sequence_length"] == batch["input_ids"].shape[1]
    assert 300 * 2**20 < result["peak_bytes"] < 16 * 2**30
    assert result["trainable_params"] == 30 * 4 * ((576 + 576) + (576 + 192))  # r=4 on q (576->576) and v (576->192)
    assert result["pid"] != os.getpid() and result["gradient_checkpointing"] is False and result["seconds_per_step"] > 0


# ------------------------------------------------ the solution's inference script (Bonus C)


def _answer_tickets(*args: str, stdin: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SOLUTION_SCRIPT), *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


def test_answer_tickets_without_adapter_says_run_the_challenge(tmp_path):
    done = _answer_tickets("--adapter", str(tmp_path / "missing"), "Where is my order?", timeout=120)
    assert done.returncode == 2 and "run Task 3 of the challenge" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_answer_tickets_needs_a_message(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    done = _answer_tickets("--adapter", str(tmp_path), stdin="\n  \n", timeout=120)
    assert done.returncode == 2 and "no message" in done.stderr and "Traceback" not in done.stderr


def test_the_learners_starter_script_keeps_the_command_line_and_stubs_the_model_code():
    starter = (NOTEBOOKS_DIR / "answer_tickets.py").read_text()
    assert starter.count("raise NotImplementedError") == 2 and "PeftModel.from_pretrained(base" not in starter
    assert "def main(" in starter and "def output_line(" in starter


@pytest.mark.slow
def test_answer_tickets_with_an_untrained_adapter(tmp_path, lora_config):
    """An adapter saved straight after get_peft_model (B = 0, so it answers like the base model)."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from helpers.models import CHAT_MODEL_ID

    model = AutoModelForCausalLM.from_pretrained(CHAT_MODEL_ID, dtype=torch.float32)
    get_peft_model(model, lora_config).save_pretrained(tmp_path)
    messages = ["Where is my order AB-12345? The laptop is late.", "Cancel the headphones order please"]
    done = _answer_tickets("--adapter", str(tmp_path), stdin="\n".join(messages) + "\n")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line), dict) for line in lines)


# ------------------------------------------------------------ answer-only logits


def _tiny_llama(layers: int = 2):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=layers,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config)


def _labelled_batch():
    ids = torch.randint(3, 64, (2, 10), generator=torch.Generator().manual_seed(1))
    labels = torch.full_like(ids, -100)
    labels[0, 6:] = ids[0, 6:]
    labels[1, 4:8] = ids[1, 4:8]  # a shorter answer, then padding (-100)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def test_answer_logits_only_gives_the_same_loss_and_gradients_from_fewer_logits():
    model, batch = _tiny_llama(), _labelled_batch()
    full = model(**batch)
    full.loss.backward()
    full_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    inputs = lt.answer_logits_only(batch)
    assert inputs["logits_to_keep"].sum() == (batch["labels"][:, 1:] != -100).sum() == 8
    assert inputs["shift_labels"].tolist() == [t for row in batch["labels"][:, 1:].tolist() for t in row if t != -100]
    kept = model(**inputs)
    assert kept.logits.shape == (8, 64) and full.logits.shape == (2, 10, 64)
    assert torch.allclose(kept.loss, full.loss, atol=1e-6)
    kept.loss.backward()
    assert all(torch.allclose(p.grad, g, atol=1e-6) for p, g in zip(model.parameters(), full_grads, strict=True))
    assert set(batch) == {"input_ids", "attention_mask", "labels"}  # the collator's batch is left alone


def test_keep_answer_logits_wraps_a_collator_and_refuses_what_is_not_one():
    batch = _labelled_batch()
    collator = lt.keep_answer_logits(lambda features: batch)
    assert set(collator([{}])) == {"input_ids", "attention_mask", "labels", "logits_to_keep", "shift_labels"}
    with pytest.raises(TypeError, match="collator"):
        lt.keep_answer_logits("DataCollatorForSeq2Seq")
    with pytest.raises(ValueError, match="labels"):
        lt.answer_logits_only({"input_ids": batch["input_ids"]})


@pytest.mark.parametrize("mixed", ["bf16", "fp16", "no"])
def test_the_probe_spec_keeps_answer_logits_and_the_mixed_precision(tmp_path, batch, mixed):
    inputs = lt.answer_logits_only(batch)
    spec = probe_child.write_probe_spec(tmp_path, batch=inputs, lora_config=None, mixed_precision=mixed)
    saved = torch.load(spec / probe_child.BATCH_FILE)
    assert set(saved) == set(inputs) and torch.equal(saved["logits_to_keep"], inputs["logits_to_keep"])
    assert probe_child.spec_mixed_precision(spec) == mixed


@pytest.mark.parametrize("wrong", ["fp8", "fp32", "bf16 autocast"])
def test_the_probe_speaks_helpers_devices_precision_vocabulary_only(tmp_path, batch, wrong):
    with pytest.raises(ValueError, match="mixed_precision"):
        probe_child.write_probe_spec(tmp_path / "b", batch=batch, lora_config=None, mixed_precision=wrong)
    (tmp_path / probe_child.PRECISION_FILE).write_text(wrong)
    with pytest.raises(ValueError, match="not one of"):
        probe_child.spec_mixed_precision(tmp_path)


def test_the_probe_records_are_written_by_the_measuring_process_and_read_back(tmp_path, monkeypatch):
    """The child's writer keeps the newest records; the grader reads a record by process id and mode only."""
    monkeypatch.setattr(probe_child, "KEEP_RECORDS", 2)
    measurement = {"mode": "qlora", "pid": 4242, "peak_bytes": 123}
    path = probe_child._record_measurement(measurement, tmp_path)
    assert path == probe_records.record_path(4242, "qlora", tmp_path) and path.parent == tmp_path
    assert probe_records.read_record(4242, "qlora", tmp_path) == measurement
    assert probe_records.read_record(4242, "lora", tmp_path) is None  # no such measurement
    assert probe_records.read_record("4242", "qlora", tmp_path) is None  # a typed id is not a process id
    assert probe_records.read_record(True, "qlora", tmp_path) is None
    for pid in (1, 2):
        os.utime(path, (1, 1))  # the first record is the oldest
        probe_child._record_measurement({**measurement, "pid": pid}, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["1-qlora.json", "2-qlora.json"]
    not_a_folder = tmp_path / "1-qlora.json"
    assert probe_child._record_measurement(measurement, not_a_folder) is None  # the measurement still prints


def test_the_modes_are_prepared_in_one_place():
    from helpers.challenge import modes

    model = torch.nn.Linear(2, 2).requires_grad_(False)
    assert modes.prepare_for_mode(model, "full", None) is model and model.weight.requires_grad
    with pytest.raises(ValueError, match="needs a LoraConfig"):
        modes.prepare_for_mode(model, "lora", None)
    with pytest.raises(ValueError, match="use one of"):
        modes.check_mode("prefix")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_allocator_setting_is_accepted_by_glibc():
    from helpers.challenge import allocator

    assert allocator.set_mmap_threshold(allocator.MMAP_THRESHOLD_BYTES) is True
    assert allocator.restore_heap_reuse() is True


# ------------------------------------------------------------ pace


def test_measure_pace_times_backpropagation_and_picks_the_faster_setting_on_a_slow_machine(tmp_path, monkeypatch):
    from helpers.challenge import pace

    model = _tiny_llama(layers=pace.NUM_LAYERS)
    model.save_pretrained(tmp_path)
    monkeypatch.setattr(pace, "SEQUENCE_LENGTH", 40)
    monkeypatch.setattr(pace, "ANSWER_TOKENS", 10)
    monkeypatch.setattr(torch, "randint", lambda low, high, size, generator: torch.arange(size[0] * size[1]
                                                                                           ).reshape(size) % 60 + 3)
    roomy = pace.measure_pace(str(tmp_path), budget_s=1e9)
    assert roomy.adapted_layers == pace.DEFAULT_LAYERS and not roomy.fast
    assert roomy.seconds_per_step > 0 and set(roomy.estimates) == set(pace.CELL_STEPS)
    assert roomy.core_s == pytest.approx(sum(pace.CELL_STEPS[n] for n in pace.CORE_CELLS) * roomy.seconds_per_step)
    tight = pace.measure_pace(str(tmp_path), budget_s=1e-9)
    assert tight.adapted_layers == pace.FAST_LAYERS and tight.fast
    text = repr(tight)
    assert "faster setting" in text and "trainer.train()" in text and f"top {len(pace.FAST_LAYERS)} blocks" in text


def test_the_pace_hook_stops_backpropagation_at_the_chosen_block():
    from helpers.challenge import pace

    model = _tiny_llama(layers=4).requires_grad_(False)
    seen = []
    model.model.layers[2].register_forward_hook(lambda module, args, output: seen.append(args[0].requires_grad))
    model.model.layers[1].register_forward_hook(lambda module, args, output: seen.append(args[0].requires_grad))
    handle = model.model.layers[2].register_forward_pre_hook(pace._input_as_leaf, with_kwargs=True)
    model(**_labelled_batch()).loss.backward()
    handle.remove()
    assert seen == [False, True]  # block 1's input needs no gradient, block 2's does


@pytest.mark.parametrize(("device", "native", "expected"), [
    ("cpu", True, "bf16"), ("cpu", False, "no"), ("cuda", True, "bf16"), ("cuda", False, "fp16"), ("mps", True, "no")])
def test_the_probe_measures_in_the_precision_the_trainer_uses(monkeypatch, batch, device, native, expected):
    """By default the children train as the challenge's Trainer does here: helpers.device's mixed precision."""
    import helpers.device

    monkeypatch.setattr(helpers.device, "cpu_bf16_native", lambda: native)
    monkeypatch.setattr(helpers.device, "cuda_bf16_native", lambda device=None: native)
    monkeypatch.setattr(probe, "pick_device", lambda: torch.device(device))
    specs = []

    def command(mode, spec, steps, gradient_checkpointing):
        specs.append(probe_child.spec_mixed_precision(Path(spec)))
        return [sys.executable, "-c", "import json, os; print(json.dumps({'mode': 'full', 'pid': os.getpid()}))"]

    monkeypatch.setattr(probe, "_memory_command", command)
    probe.measure_training_memory("full", batch=batch)
    probe.measure_training_memory("full", batch=batch, mixed_precision="no")
    assert specs == [expected, "no"]
