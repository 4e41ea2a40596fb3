"""The LoRA challenge's training path: label masking, collation, device plans, results, scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

import helpers  # noqa: F401  (offline mode before any Hugging Face import)
from helpers import challenge_results as cr
from helpers import lora_training as lt
from helpers.extraction_task import format_record, load_splits

END_OF_TURN = "<|im_end|>"


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from helpers.models import CHAT_MODEL_ID, resolve_model

    return AutoTokenizer.from_pretrained(resolve_model(CHAT_MODEL_ID, verbose=False))


@pytest.fixture(scope="module")
def rows():
    return [dict(r) for r in load_splits(("train",))["train"].select(range(6))]


# ------------------------------------------------------------------ tokenization


def test_apply_chat_template_returns_a_batch_encoding_unless_asked(tokenizer, rows):
    """transformers 5: tokenize=True gives a BatchEncoding by default; tokenize_example copes with both."""
    chat = [{"role": "user", "content": rows[0]["message"]}]
    assert not isinstance(tokenizer.apply_chat_template(chat, tokenize=True), list)
    assert isinstance(tokenizer.apply_chat_template(chat, tokenize=True, return_dict=False), list)
    encoded = tokenizer.apply_chat_template(chat, tokenize=True)
    assert lt._token_ids(encoded) == tokenizer.apply_chat_template(chat, tokenize=True, return_dict=False)


def test_tokenize_example_masks_the_prompt_and_keeps_the_end_of_turn_label(tokenizer, rows):
    for row in rows:
        example = lt.tokenize_example(row, tokenizer)
        ids, labels = example["input_ids"], example["labels"]
        assert len(ids) == len(labels) == len(example["attention_mask"])
        assert set(example["attention_mask"]) == {1}
        answer = [t for t in labels if t != lt.IGNORE_INDEX]
        assert tokenizer.decode(answer) == format_record(row) + END_OF_TURN
        start = len(ids) - len(answer)
        assert labels[:start] == [lt.IGNORE_INDEX] * start  # prompt masked, contiguous
        assert ids[start:] == answer
        assert tokenizer.decode(ids[:start]).endswith("<|im_start|>assistant\n")
        assert ids[-1] == tokenizer.eos_token_id == tokenizer.pad_token_id == 2  # SmolLM2: pad == EOS


def test_tokenize_example_rejects_a_bad_record(tokenizer, rows):
    with pytest.raises(ValueError, match="urgent"):
        lt.tokenize_example({**rows[0], "urgent": "yes"}, tokenizer)


def test_build_splits_keeps_only_the_model_columns(tokenizer):
    data = lt.build_splits(tokenizer, limit=5)
    assert set(data) == {"train", "validation"}
    for split in data.values():
        assert len(split) == 5
        assert split.column_names == ["input_ids", "attention_mask", "labels"]
    with pytest.raises(ValueError, match="limit"):
        lt.build_splits(tokenizer, ("train",), limit=0)


# --------------------------------------------------------------------- collation


def test_collator_pads_and_keeps_eos_labels_where_the_lm_collator_drops_them(tokenizer, rows):
    from transformers import DataCollatorForLanguageModeling

    examples = [lt.tokenize_example(r, tokenizer) for r in rows]
    batch = lt.data_collator(tokenizer)(examples)
    longest = max(len(e["input_ids"]) for e in examples)
    assert {k: tuple(v.shape) for k, v in batch.items()} == {k: (len(rows), longest) for k in batch}
    for i, example in enumerate(examples):
        n = len(example["input_ids"])
        pad = slice(n, None) if tokenizer.padding_side == "right" else slice(0, longest - n)
        real = slice(0, n) if tokenizer.padding_side == "right" else slice(longest - n, None)
        assert batch["labels"][i, real].tolist() == example["labels"]  # EOS label kept
        assert set(batch["labels"][i, pad].tolist()) <= {lt.IGNORE_INDEX}
        assert set(batch["attention_mask"][i, pad].tolist()) <= {0}
        assert set(batch["input_ids"][i, pad].tolist()) <= {tokenizer.pad_token_id}
    eos_labels = (batch["labels"] == tokenizer.eos_token_id).sum(dim=1)
    assert eos_labels.tolist() == [1] * len(rows)  # one end-of-turn label per answer

    wrong = DataCollatorForLanguageModeling(tokenizer, mlm=False)([{"input_ids": e["input_ids"]} for e in examples])
    assert (wrong["labels"] == tokenizer.eos_token_id).sum() == 0  # the model would never learn to stop
    assert (wrong["labels"][:, 0] != lt.IGNORE_INDEX).all()  # and it would train on the prompt


# -------------------------------------------------------------- device decisions


@pytest.mark.parametrize(("bf16", "precision"), [(True, "bf16"), (False, "fp16")])
def test_cuda_plan_mixed_precision_and_batch_search(bf16, precision):
    plan = lt.training_plan("cuda", bf16_supported=bf16)
    assert plan.precision == precision
    assert plan.auto_find_batch_size and not plan.use_cpu
    assert plan.per_device_train_batch_size * plan.gradient_accumulation_steps == lt.TRAIN_BATCH_SIZE
    kwargs = plan.training_kwargs()
    assert (kwargs["bf16"], kwargs["fp16"]) == (precision == "bf16", precision == "fp16")


def test_mps_plan_is_fp32_with_batch_search():
    plan = lt.training_plan("mps", bf16_supported=True)  # ignored off CUDA
    assert (plan.precision, plan.use_cpu, plan.auto_find_batch_size) == ("fp32", False, True)
    assert not plan.training_kwargs()["bf16"] and not plan.training_kwargs()["fp16"]


@pytest.mark.parametrize(("bf16", "precision"), [(False, "fp32"), (True, "bf16")])
def test_cpu_plan_forces_cpu_without_batch_search(bf16, precision):
    plan = lt.training_plan("cpu", batch_size=4, bf16_supported=bf16)
    assert (plan.precision, plan.use_cpu, plan.auto_find_batch_size) == (precision, True, False)
    assert plan.per_device_train_batch_size == 4
    assert plan.training_kwargs()["bf16"] is bf16 and not plan.training_kwargs()["fp16"]


CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 {extra}\nbugs\t\t: none\n"


@pytest.mark.parametrize(("extra", "expected"), [("", False), ("avx512f", False), ("avx512f avx512_bf16", True),
                                                 ("amx_tile amx_bf16", True)])
def test_cpu_supports_bf16_reads_the_cpu_flags(extra, expected):
    assert lt.cpu_supports_bf16(CPUINFO.format(extra=extra)) is expected


def test_cpu_supports_bf16_without_cpuinfo(monkeypatch):
    def unreadable(self, *args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(lt.Path, "read_text", unreadable)
    assert lt.cpu_supports_bf16() is False


@pytest.mark.parametrize(("device", "batch"), [("tpu", None), ("cpu", 0), ("cpu", True)])
def test_plan_rejects_unknown_devices_and_bad_batches(device, batch):
    with pytest.raises(ValueError):
        lt.training_plan(device, batch_size=batch)


def test_default_training_arguments_on_cpu(tmp_path):
    args = lt.default_training_arguments(tmp_path, device="cpu")
    assert args.use_cpu and args.bf16 is lt.cpu_supports_bf16() and not args.fp16
    assert args.eval_strategy == "epoch" and args.save_strategy == "no"
    assert args.logging_strategy == "steps" and args.logging_steps == lt.LOGGING_STEPS
    assert args.report_to in ([], "none", ["none"])
    assert args.num_train_epochs == 3 and args.learning_rate == lt.LEARNING_RATE and args.warmup_steps == 0.1
    assert args.per_device_train_batch_size == lt.TRAIN_BATCH_SIZE and not args.auto_find_batch_size
    overridden = lt.default_training_arguments(tmp_path, device="cpu", num_train_epochs=1, logging_steps=1)
    assert (overridden.num_train_epochs, overridden.logging_steps) == (1, 1)


def test_default_training_arguments_follow_the_cuda_plan(tmp_path, monkeypatch):
    """The CUDA branch end to end, with the plan's precision swapped for fp32 (no GPU here)."""
    monkeypatch.setattr(lt, "_bf16_supported", lambda device: True)
    seen = {}

    def fake_plan(device_type, **kwargs):
        seen["device_type"], seen["bf16_supported"] = device_type, kwargs["bf16_supported"]
        return lt.TrainingPlan("cpu", "fp32", 8, 32, 1, True, True)

    monkeypatch.setattr(lt, "training_plan", fake_plan)
    args = lt.default_training_arguments(tmp_path, device="cuda")
    assert seen == {"device_type": "cuda", "bf16_supported": True}
    assert args.auto_find_batch_size and args.per_device_eval_batch_size == 32


def test_default_lora_config_and_overrides():
    config = lt.default_lora_config()
    assert config.task_type == "CAUSAL_LM" and config.r == 16 and config.lora_alpha == 32
    assert set(config.target_modules) == set(lt.TARGET_MODULES) and config.layers_to_transform == list(range(18, 30))
    small = lt.default_lora_config(r=8, target_modules=["q_proj", "v_proj"])
    assert small.r == 8 and set(small.target_modules) == {"q_proj", "v_proj"}


# ------------------------------------------------------------------- results file


def test_update_results_merges_runs_into_the_challenge_schema(tmp_path):
    path = tmp_path / "out" / "results.json"
    lora = {"base_model": "HuggingFaceTB/SmolLM2-135M-Instruct", "epochs": 3, "total_params": 139_399_488,
            "trainable_params": {"lora": 4_884_480},
            "metrics": {"base": {"exact_match": 0.0, "valid_json": 0.0}, "lora": {"exact_match": 0.9}},
            "peak_memory_bytes": {"lora": 2 * 2**30}, "train_seconds": {"lora": 100.5},
            "checkpoint_bytes": {"lora": 19_593_064}}
    lt.update_results(lora, path)
    merged = lt.update_results({"trainable_params": {"qlora": 4_884_480}, "metrics": {"qlora": {"exact_match": 0.8}},
                                "peak_memory_bytes": {"qlora": 2**30}}, path)
    assert merged == json.loads(path.read_text())
    assert merged["metrics"].keys() == {"base", "lora", "qlora"}
    assert merged["trainable_params"] == {"lora": 4_884_480, "qlora": 4_884_480}
    results = cr.load_challenge_results(path)
    assert results.found and results.base_exact_match == 0.0 and results.epochs == 3
    assert results.strategies["lora"].exact_match == 0.9 and results.strategies["qlora"].exact_match == 0.8
    assert results.strategies["lora"].checkpoint_bytes == 19_593_064
    path.write_text("{broken")
    assert lt.update_results({"epochs": 1}, path) == {"epochs": 1}


def test_generate_answers_wants_a_list_of_messages():
    with pytest.raises(TypeError, match="sequence of strings"):
        lt.generate_answers(torch.nn.Linear(1, 1), None, "one message")


# ------------------------------------------------------------ memory measurement


def test_measure_training_memory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        lt.measure_training_memory("prefix")
    with pytest.raises(ValueError, match="steps"):
        lt.measure_training_memory("lora", steps=1)


def test_measure_training_memory_reports_a_failed_child(monkeypatch):
    def failed(command, **kwargs):
        assert command[1:5] == ["-m", "helpers.lora_training", "memory", "--mode"]
        return subprocess.CompletedProcess(command, 1, "", "Traceback...\nRuntimeError: out of memory\n")

    monkeypatch.setattr(lt.subprocess, "run", failed)
    with pytest.raises(RuntimeError, match=r"(?s)failed \(exit code 1\).*out of memory"):
        lt.measure_training_memory("full")


def test_measure_training_memory_reports_a_timeout(monkeypatch):
    def slow(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"], stderr=b"still loading")

    monkeypatch.setattr(lt.subprocess, "run", slow)
    with pytest.raises(RuntimeError, match=r"(?s)longer than 5 s.*still loading"):
        lt.measure_training_memory("qlora", timeout=5)


@pytest.mark.slow
def test_measure_training_memory_in_a_child_process():
    result = lt.measure_training_memory("lora", steps=3, batch_size=2, timeout=300)
    assert {"mode", "peak_bytes", "seconds_per_step", "trainable_params"} <= result.keys()
    assert result["mode"] == "lora" and result["batch_size"] == 2
    assert 500 * 2**20 < result["peak_bytes"] < 16 * 2**30
    assert result["trainable_params"] == 1_953_792 and result["seconds_per_step"] > 0
    assert result["pid"] != os.getpid() and result["gradient_checkpointing"] is False


# ---------------------------------------------------------------- answer_tickets


def _answer_tickets(*args: str, stdin: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.answer_tickets", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, cwd=lt.REPO_ROOT)


def test_answer_tickets_without_adapter_says_run_the_notebook(tmp_path, capsys):
    from helpers import answer_tickets

    assert answer_tickets.main(["--adapter", str(tmp_path / "missing"), "Where is my order?"]) == 2
    err = capsys.readouterr().err
    assert "No LoRA adapter found" in err and "04 · LoRA challenge" in err
    done = _answer_tickets("--adapter", str(tmp_path / "missing"), "Where is my order?", timeout=120)
    assert done.returncode == 2 and "run the challenge notebook" in done.stderr.lower()
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_answer_tickets_needs_a_message(tmp_path, capsys, monkeypatch):
    from helpers import answer_tickets

    (tmp_path / "adapter_config.json").write_text("{}")
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("\n  \n"))
    assert answer_tickets.main(["--adapter", str(tmp_path)]) == 2
    assert "No message" in capsys.readouterr().err


def test_answer_lines_are_records_or_error_objects():
    from helpers.answer_tickets import format_answer

    record = '{"intent":"refund","product":"laptop","order_id":null,"urgent":false}'
    assert format_answer(f"Sure! {record} Anything else?") == record
    assert json.loads(format_answer("I cannot help with that")) == {
        "error": "the answer holds no JSON object", "answer": "I cannot help with that"}


@pytest.mark.slow
def test_answer_tickets_with_an_untrained_adapter(tmp_path):
    """An adapter saved straight after get_peft_model (B = 0, so it answers like the base model)."""
    from peft import get_peft_model

    model = lt.load_base_model(device="cpu")
    get_peft_model(model, lt.default_lora_config(r=2, target_modules=["q_proj"])).save_pretrained(tmp_path)
    messages = ["Where is my order AB-12345? The laptop is late.", "Cancel the headphones order please"]
    done = _answer_tickets("--adapter", str(tmp_path), "--max-new-tokens", "12", stdin="\n".join(messages) + "\n")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line), dict) for line in lines)
    one = _answer_tickets("--adapter", str(tmp_path), "--max-new-tokens", "4", messages[0])
    assert one.returncode == 0 and len(one.stdout.strip().splitlines()) == 1


# ------------------------------------------------------------- distributed script


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path):
    """``accelerate launch --cpu`` with two processes (gloo, no config file) trains, saves and records."""
    adapter, results = tmp_path / "adapter", tmp_path / "results.json"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "helpers.lora_training", "train", "--max-steps", "2", "--limit", "32", "--eval-limit", "8",
               "--max-new-tokens", "40", "--output-dir", str(adapter), "--results", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=lt.REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("lora: exact match") == 1  # only the main process prints
    data = json.loads(results.read_text())
    assert data["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert data["metrics"].keys() == {"base", "lora"}
    assert set(data["metrics"]["lora"]) >= {"exact_match", "valid_json", "field_accuracy"}
    assert data["trainable_params"] == {"lora": 1_953_792} and data["total_params"] > 134_000_000
    assert data["checkpoint_bytes"]["lora"] == (adapter / "adapter_model.safetensors").stat().st_size
    assert data["train_seconds"]["lora"] > 0 and "peak_memory_bytes" not in data  # in-process peaks stay out
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 16
    assert cr.load_challenge_results(results).strategies["lora"].trainable_params == 1_953_792


def _fake_child(code: str):
    def command(mode, steps, batch_size, gradient_checkpointing):
        return [sys.executable, "-c", code.replace("MODE", mode)]
    return command


def test_compare_training_memory_runs_the_modes_side_by_side(monkeypatch):
    code = ("import json, os, time; time.sleep(1); "
            "print(json.dumps({'mode': 'MODE', 'peak_bytes': 1, 'threads': os.environ['OMP_NUM_THREADS'], "
            "'pid': os.getpid()}))")
    monkeypatch.setattr(lt, "_memory_command", _fake_child(code))
    started = __import__("time").monotonic()
    results = lt.compare_training_memory(("lora", "full", "qlora"))
    assert __import__("time").monotonic() - started < 2.8  # three 1 s children, not one after another
    assert list(results) == ["lora", "full", "qlora"]
    assert {r["threads"] for r in results.values()} == {"1"} and len({r["pid"] for r in results.values()}) == 3


def test_compare_training_memory_names_the_failed_mode_and_stops_the_others(monkeypatch):
    code = ("import sys, time\nif 'MODE' == 'full':\n    sys.exit('out of memory')\ntime.sleep(30)")
    monkeypatch.setattr(lt, "_memory_command", _fake_child(code))
    with pytest.raises(RuntimeError, match=r"(?s)measuring full training memory failed.*out of memory"):
        lt.compare_training_memory(("full", "lora"), timeout=20)


@pytest.mark.parametrize("modes", [(), ("lora", "lora"), ("lora", "tiny")])
def test_compare_training_memory_rejects_bad_modes(modes):
    with pytest.raises(ValueError):
        lt.compare_training_memory(modes)
