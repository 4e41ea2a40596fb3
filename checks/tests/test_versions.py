"""helpers.versions: removed spellings and version drift end in one line that names the fix."""

from __future__ import annotations

import pytest

from helpers import versions


@pytest.fixture
def drifted(monkeypatch):
    """transformers appears as 9.9.9, everything else as pinned."""
    real = versions.installed_version
    monkeypatch.setattr(versions, "installed_version",
                        lambda name: "9.9.9" if name == "transformers" else real(name))


def test_the_pins_are_read_from_requirements():
    pins = versions.pinned_versions()
    assert pins["transformers"].startswith("5.") and pins["huggingface_hub"].startswith("2.")


def test_no_drift_in_the_workshop_environment():
    assert versions.version_drift() == []  # make setup installed the pins (torch's +cpu tag counts as the pin)
    assert versions.drift_note() is None


def test_drift_names_installed_and_pinned_versions_and_the_fix(drifted):
    pinned = versions.pinned_versions()["transformers"]
    assert versions.version_drift() == [("transformers", "9.9.9", pinned)]
    note = versions.drift_note()
    assert f"transformers 9.9.9 (pinned {pinned})" in note and "make setup" in note


def test_a_removed_trainer_keyword_is_diagnosed():
    from transformers import TrainingArguments

    with pytest.raises(TypeError) as err:
        TrainingArguments(output_dir="unused", evaluation_strategy="epoch")
    line = versions.diagnose(err.value)
    assert "`eval_strategy=`" in line and f"transformers {versions.installed_version('transformers')}" in line


def test_a_removed_loading_keyword_is_diagnosed():
    error = TypeError("LlamaForCausalLM.__init__() got an unexpected keyword argument 'load_in_8bit'")
    assert "BitsAndBytesConfig(load_in_8bit=True)" in versions.diagnose(error)


def test_an_uncached_model_offline_is_diagnosed(monkeypatch):
    monkeypatch.delenv("WORKSHOP_MODELS", raising=False)
    error = OSError("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them")
    line = versions.diagnose(error)
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in line and "make models" in line and "WORKSHOP_MODELS=hub" in line


def test_hub_mode_errors_say_what_to_do(monkeypatch):
    monkeypatch.setenv("WORKSHOP_MODELS", "hub")
    connect = type("ConnectError", (Exception,), {})("[Errno -2] Name or service not known")
    assert "cannot reach huggingface.co" in versions.diagnose(connect)
    gated = OSError("You are trying to access a gated repo.\nMake sure to have access to it at https://hf.co/x/y.")
    assert "hf auth login" in versions.diagnose(gated)
    unknown = OSError("x/y is not a local folder and is not a valid model identifier listed on "
                      "'https://huggingface.co/models'")
    assert "check the id's spelling" in versions.diagnose(unknown)


def test_other_errors_get_nothing_unless_versions_drift(drifted):
    assert "transformers 9.9.9" in versions.diagnose(ValueError("anything"))


def test_other_errors_get_nothing_in_the_pinned_environment():
    assert versions.diagnose(ValueError("anything")) is None


def test_the_ipython_hook_adds_the_diagnosis_under_the_traceback(capsys):
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    assert versions.install_exception_hook()
    shell.run_cell("from transformers import TrainingArguments\n"
                   "TrainingArguments(output_dir='unused', evaluation_strategy='epoch')")
    out = capsys.readouterr().out
    assert "TypeError" in out and "Workshop diagnosis: `evaluation_strategy=`: write `eval_strategy=`" in out
    shell.set_custom_exc((), None)


def test_a_failing_check_table_carries_the_drift_note(drifted, capsys):
    from checks.grader import check
    from checks.grader.registry import CheckResult
    from checks.grader.report import results_html

    results = check("concept", "Self-check 1")  # nothing defined in this process: the check fails
    assert results and not all(r.passed for r in results)
    assert "note: Installed versions differ from the workshop's pins: transformers 9.9.9" in capsys.readouterr().out
    failed = [CheckResult(name="x", task="t", passed=False, points=1, message="m", hint="h")]
    assert "<b>Note:</b> Installed" in results_html(failed, "t", versions.drift_note())


def test_a_failing_check_table_has_no_note_in_the_pinned_environment(capsys):
    from checks.grader import check

    check("concept", "Self-check 1")
    assert "note:" not in capsys.readouterr().out
