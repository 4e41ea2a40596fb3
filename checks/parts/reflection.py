"""Autograder for 05 · Reflection: "Task: share on the Hub" (the challenge's adapter and the tickets).

The notebook stages two repositories offline, laid out as on the Hub: the adapter of 04 · LoRA challenge with
the learner's model card in ``MODEL_REPO_DIR``, the train and validation tickets with the learner's data set card in
``DATA_REPO_DIR``. Two artifact checks read those folders in a process that never ran notebook code: the card's
YAML header and sections, its exact match against ``results.json`` (the measured number, not a typed one), the
data set as ``load_dataset`` reads it. One object check calls the learner's ``upload_all()`` against a stand-in Hub
that records the calls (``create_repo``, ``upload_folder``, ``push_to_hub``) instead of sending them, so the upload
code is graded offline too.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any
from unittest import mock

from checks.grader import Part, expect, require
from helpers.challenge.hub import ADAPTER_FILES, SHARED_SPLITS
from helpers.models import CHAT_MODEL_ID
from helpers.paths import RESULTS_PATH, shown_path

part = Part("reflection")

TASK = "Task: share on the Hub"

MODEL_CHECK = "MODEL_REPO_DIR is a model repository: the adapter and a card with base model, licence, data and result"
DATA_CHECK = "DATA_REPO_DIR is a data set repository: train and validation tickets and a card with a licence"
UPLOAD_CHECK = "upload_all() creates the model repository, uploads its folder and pushes the tickets and their card"

PERCENT_TOLERANCE = 0.005
"""How far the card's percentage may be from the measured exact match: ``f"{x:.0%}"`` rounds to a whole point."""
_NOT_FILLED = "[more information needed]"
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _section(text: str, *titles: str) -> str | None:
    """The body of the first markdown section whose heading starts with one of ``titles`` (case-insensitive):
    the lines up to the next heading, without HTML comments, stripped; ``None`` when there is no such heading."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading and heading.group(1).lower().startswith(tuple(t.lower() for t in titles)):
            body = []
            for following in lines[i + 1:]:
                if _HEADING.match(following):
                    break
                body.append(following)
            return _COMMENT.sub("", "\n".join(body)).strip()
    return None


def _filled(section: str | None) -> bool:
    return bool(section) and section.strip().lower() != _NOT_FILLED


def _measured_exact_match(ns: dict[str, Any]) -> tuple[float | None, str]:
    """The LoRA run's exact match in the challenge's ``results.json`` (the notebook's ``CHALLENGE_RESULTS``)."""
    from helpers.challenge.results import ResultsError, read_results

    path = Path(ns.get("CHALLENGE_RESULTS") or RESULTS_PATH)
    try:
        results = read_results(path)
    except ResultsError as err:
        return None, str(err)
    scores = results.metrics.get("lora") if results else None
    if scores is None:
        return None, (f"{shown_path(path)} has no LoRA exact match: finish 04 · LoRA challenge (its results cell), "
                      "then run this section again")
    return float(scores.exact_match), shown_path(path)


def _saved_card(folder: Path, card: Any, name: str, what: str, folder_name: str) -> Path:
    """``folder / "README.md"``, after checking that it holds exactly the notebook's ``card`` (named ``name``).

    Raises:
        CheckFailed: no README.md there, or one that is not this card (saved earlier, or another card).
    """
    readme = folder / "README.md"
    expect(readme.is_file(), f"{shown_path(folder)} has no README.md ({what}): {name}.save({folder_name} / "
                             "\"README.md\").")
    expect(readme.read_text(encoding="utf-8").strip() == str(card).strip(),
           f"{shown_path(readme)} is not this notebook's {name}: save it there after building it (a card saved "
           "earlier does not count).")
    return readme


@part.check(MODEL_CHECK, task=TASK,
            hint="ModelCardData(...) is the card's YAML header (base_model, library_name, license, datasets); "
                 "ModelCard.from_template(card_data, direct_use=..., results=...) fills the sections; "
                 "card.save(MODEL_REPO_DIR / \"README.md\") puts it next to the adapter.",
            more_hint="card = ModelCard.from_template(ModelCardData(base_model=CHAT_MODEL_ID, library_name=\"peft\", "
                      "license=LICENSE, datasets=[HUB_DATASET_ID]), direct_use=\"...\", "
                      "results=f\"Exact match: {exact_match:.0%}\"); card.save(MODEL_REPO_DIR / \"README.md\")",
            reads=("MODEL_REPO_DIR", "card", "HUB_DATASET_ID", "CHALLENGE_RESULTS"))
def _model_repo(ns):
    from huggingface_hub import ModelCard

    folder = Path(require(ns, "MODEL_REPO_DIR"))
    written = require(ns, "card", ModelCard)
    readme = _saved_card(folder, written, "card", "the model card", "MODEL_REPO_DIR")
    card = ModelCard.load(readme)
    data = card.data.to_dict()
    dataset_id = ns.get("HUB_DATASET_ID")
    problems = []
    if data.get("base_model") != CHAT_MODEL_ID:
        problems.append(f"base_model is {data.get('base_model')!r}, not CHAT_MODEL_ID ({CHAT_MODEL_ID!r})")
    if data.get("library_name") != "peft":
        problems.append(f"library_name is {data.get('library_name')!r}, not 'peft' (an adapter)")
    if not data.get("license"):
        problems.append("the card has no license: nobody may legally reuse the adapter without one (LICENSE)")
    if not (isinstance(data.get("datasets"), list) and dataset_id in data["datasets"]):
        problems.append(f"datasets is {data.get('datasets')!r}: name the data set repository, [HUB_DATASET_ID]")
    if not _filled(_section(card.text, "direct use", "intended use")):
        problems.append("the Direct Use section is empty: say what the adapter is for (direct_use=...)")
    results = _section(card.text, "results")
    stated = [float(p) / 100 for p in _PERCENT.findall(results or "")] if _filled(results) else []
    stated += [float(r.metric_value) for r in card.data.eval_results or []
               if r.metric_type == "exact_match" and isinstance(r.metric_value, int | float)]
    measured, source = _measured_exact_match(ns)
    if measured is None:
        problems.append(source)
    elif not stated:
        problems.append(f"the Results section states no exact match: write the one measured in the challenge "
                        f"({measured:.0%}) with results=f\"... {{exact_match:.0%}}\"")
    elif not any(abs(s - measured) <= PERCENT_TOLERANCE + 1e-9 for s in stated):
        shown = ", ".join(f"{s:.1%}" for s in stated)
        problems.append(f"the Results section states {shown}; {source} says the adapter scored {measured:.1%}: "
                        "write the measured number, f\"{exact_match:.0%}\", not a typed one")
    missing = [name for name in ADAPTER_FILES if not (folder / name).is_file()]
    if missing:
        problems.append(f"{shown_path(folder)} has no {' or '.join(missing)}: finish 04 · LoRA challenge (Task 5 "
                        "saves the adapter), then run the staging cell again")
    else:
        problems += _adapter_problems(folder)
    expect(not problems, "; ".join(problems) + ".")


def _adapter_problems(folder: Path) -> list[str]:
    """What is wrong with the staged adapter files (a readable config for the base model, readable weights)."""
    from safetensors import safe_open

    problems = []
    try:
        config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [f"adapter_config.json does not read: {type(err).__name__}"]
    if config.get("base_model_name_or_path") != CHAT_MODEL_ID:
        problems.append(f"the staged adapter was trained on {config.get('base_model_name_or_path')!r}, "
                        f"not {CHAT_MODEL_ID!r}")
    try:
        with safe_open(str(folder / "adapter_model.safetensors"), framework="pt") as weights:
            if not any("lora_" in key for key in weights.keys()):
                problems.append("adapter_model.safetensors holds no LoRA weights")
    except Exception as err:  # a truncated or foreign file
        problems.append(f"adapter_model.safetensors does not read: {type(err).__name__}")
    return problems


@part.check(DATA_CHECK, task=TASK,
            hint="DatasetCard.from_template(DatasetCardData(license=LICENSE, ...)) is the data set's card; save it "
                 "as DATA_REPO_DIR / \"README.md\", next to the staged Parquet files.",
            more_hint="dataset_card = DatasetCard.from_template(DatasetCardData(license=LICENSE, pretty_name=\"Support "
                      "tickets\")); dataset_card.save(DATA_REPO_DIR / \"README.md\")",
            reads=("DATA_REPO_DIR", "dataset_card"))
def _data_repo(ns):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    from helpers.challenge.task import load_splits
    from helpers.env import progress_bars_off

    folder = Path(require(ns, "DATA_REPO_DIR"))
    dataset_card = require(ns, "dataset_card", DatasetCard)
    readme = _saved_card(folder, dataset_card, "dataset_card", "the data set card", "DATA_REPO_DIR")
    problems = []
    if not DatasetCard.load(readme).data.to_dict().get("license"):
        problems.append("the data set card has no license: DatasetCardData(license=LICENSE, ...)")
    try:
        with progress_bars_off():
            staged = load_dataset(str(folder))
    except Exception as err:
        expect(False, "; ".join([*problems, f"load_dataset({shown_path(folder)!r}) fails: {type(err).__name__}: "
                                            f"{str(err).splitlines()[0][:200]}: run the staging cell again"]) + ".")
    if set(staged) != set(SHARED_SPLITS):
        problems.append(f"the staged data set has the splits {sorted(staged)}, not {list(SHARED_SPLITS)} (the test "
                        "split stays private): run the staging cell again")
    else:
        raw = load_splits(SHARED_SPLITS)
        for split in SHARED_SPLITS:
            if staged[split].num_rows != raw[split].num_rows:
                problems.append(f"the staged {split} split has {staged[split].num_rows} tickets, the data set "
                                f"{raw[split].num_rows}: run the staging cell again")
    expect(not problems, "; ".join(problems) + ".")


# ---------------------------------------------------------------------------------------- the stand-in Hub


@contextlib.contextmanager
def _stand_in_hub(calls: list[tuple[str, Any, tuple, dict]], namespace: dict[str, Any]):
    """Replace the upload calls by recorders for the duration (``HfApi`` methods, the module-level functions,
    ``push_to_hub`` of data sets and cards), also where the notebook imported them by name."""
    import datasets
    import huggingface_hub
    from huggingface_hub import HfApi, hf_api
    from huggingface_hub.repocard import RepoCard

    def method(kind: str, result=None):
        def record(self, *args, **kwargs):
            calls.append((kind, self, args, kwargs))
            return result(args, kwargs) if result else None
        return record

    def function(kind: str, result=None):
        def record(*args, **kwargs):
            calls.append((kind, None, args, kwargs))
            return result(args, kwargs) if result else None
        return record

    def repo_url(args, kwargs):
        return f"https://huggingface.co/{args[0] if args else kwargs.get('repo_id')}"

    replacements = {"create_repo": function("create_repo", repo_url), "upload_folder": function("upload_folder")}
    originals = {name: getattr(huggingface_hub, name) for name in replacements}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(HfApi, "create_repo", method("create_repo", repo_url)))
        stack.enter_context(mock.patch.object(HfApi, "upload_folder", method("upload_folder")))
        stack.enter_context(mock.patch.object(HfApi, "upload_file", method("upload_file")))
        stack.enter_context(mock.patch.object(datasets.DatasetDict, "push_to_hub", method("push_data")))
        stack.enter_context(mock.patch.object(datasets.Dataset, "push_to_hub", method("push_data")))
        stack.enter_context(mock.patch.object(RepoCard, "push_to_hub", method("push_card")))
        for name, replacement in replacements.items():
            stack.enter_context(mock.patch.object(huggingface_hub, name, replacement))
            stack.enter_context(mock.patch.object(hf_api, name, replacement))
            if name in namespace and namespace[name] == originals[name]:  # `from huggingface_hub import create_repo`
                namespace[name] = replacement
                stack.callback(namespace.__setitem__, name, originals[name])
        yield


def _repo_id(args: tuple, kwargs: dict) -> Any:
    return args[0] if args else kwargs.get("repo_id")


@part.check(UPLOAD_CHECK, task=TASK,
            hint="In upload_all(): HfApi().create_repo(HUB_REPO_ID, ...), then HfApi().upload_folder(repo_id=..., "
                 "folder_path=MODEL_REPO_DIR); tickets.push_to_hub(HUB_DATASET_ID, ...), then "
                 "dataset_card.push_to_hub(HUB_DATASET_ID).",
            more_hint="upload_folder takes keyword arguments only; push `tickets` (train and validation), never "
                      "load_splits() with the test split.")
def _upload(ns):
    import datasets
    from huggingface_hub import DatasetCard

    upload_all = require(ns, "upload_all", callable)
    repo_id, dataset_id = require(ns, "HUB_REPO_ID", str), require(ns, "HUB_DATASET_ID", str)
    folder = Path(require(ns, "MODEL_REPO_DIR"))
    calls: list[tuple[str, Any, tuple, dict]] = []
    namespace = getattr(upload_all, "__globals__", ns)
    with _stand_in_hub(calls, namespace):
        try:
            upload_all()
        except NotImplementedError:
            expect(False, "upload_all() is not written yet: write its body in the task cell and run it.")
        except Exception as err:  # a wrong argument, a name not defined, a call this stand-in does not answer
            first = next((line for line in str(err).splitlines() if line.strip()), "")[:200]
            expect(False, f"upload_all() raised {type(err).__name__}: {first} (the stand-in Hub answers "
                          "create_repo, upload_folder and push_to_hub; offline, anything else fails).")
    problems = []
    created = [i for i, (kind, _, args, kwargs) in enumerate(calls)
               if kind == "create_repo" and _repo_id(args, kwargs) == repo_id
               and kwargs.get("repo_type") in (None, "model")]
    uploads = [(i, args, kwargs) for i, (kind, _, args, kwargs) in enumerate(calls) if kind == "upload_folder"]
    if not created:
        problems.append(f"it does not create the model repository: HfApi().create_repo(HUB_REPO_ID) ({repo_id!r})")
    if not uploads:
        problems.append("it uploads no folder: HfApi().upload_folder(repo_id=HUB_REPO_ID, folder_path=MODEL_REPO_DIR)")
    for i, args, kwargs in uploads:
        if args:
            problems.append("upload_folder takes keyword arguments only (repo_id=..., folder_path=...)")
            continue
        target = kwargs.get("folder_path")
        if kwargs.get("repo_id") != repo_id:
            problems.append(f"upload_folder goes to {kwargs.get('repo_id')!r}, not HUB_REPO_ID ({repo_id!r})")
        if target is None or Path(target).resolve() != folder.resolve():
            problems.append(f"upload_folder uploads {target!r}, not MODEL_REPO_DIR (the adapter with its card)")
        if created and i < created[0]:
            problems.append("upload_folder comes before create_repo: a new repository must exist first")
    data = [(self, args, kwargs) for kind, self, args, kwargs in calls if kind == "push_data"]
    if not any(_repo_id(args, kwargs) == dataset_id for _, args, kwargs in data):
        problems.append(f"it pushes no data set to HUB_DATASET_ID ({dataset_id!r}): "
                        "tickets.push_to_hub(HUB_DATASET_ID)")
    for pushed, _, _ in data:
        if not isinstance(pushed, datasets.DatasetDict):
            problems.append("it pushes a single Dataset: push the DatasetDict `tickets` (both splits)")
        elif set(pushed) != set(SHARED_SPLITS):
            problems.append(f"the pushed data set has the splits {sorted(pushed)}: push `tickets` (train and "
                            "validation); the test split stays private")
    cards = [(self, args, kwargs) for kind, self, args, kwargs in calls if kind == "push_card"]
    if not any(isinstance(card, DatasetCard) and _repo_id(args, kwargs) == dataset_id for card, args, kwargs in cards):
        problems.append("it does not push the data set card: dataset_card.push_to_hub(HUB_DATASET_ID)")
    expect(not problems, "upload_all(): " + "; ".join(dict.fromkeys(problems)) + ".")
