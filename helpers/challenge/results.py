"""The LoRA challenge's results file (``outputs/challenge/results.json``): one schema to write, read and tabulate.

:class:`ResultsFile` is the schema (a pydantic model); every key may be absent, so the file grows as the
challenge runs (LoRA first, then the bonus QLoRA and full fine-tuning runs)::

    {"base_model": str, "epochs": int (the LoRA run's), "epochs_by_strategy": {"lora" | "qlora" | "full": int},
     "total_params": int,
     "trainable_params": {strategy: int},
     "metrics": {"base" | strategy: {"exact_match": float, "valid_json": float, "field_accuracy": {field: float}}},
     "peak_memory_bytes": {strategy: int}, "train_seconds": {strategy: float}, "checkpoint_bytes": {strategy: int}}

Counts and bytes are non-negative integers (a ``bool`` or a ``"460800"`` string is not one), seconds are
non-negative numbers, fractions (``exact_match``, ``valid_json``) lie between 0 and 1. The three callers::

    update_results({"metrics": {"lora": tuned_scores}}, RESULTS_PATH)   # the notebook: merge, validate, write
    read_results(RESULTS_PATH)                                          # the grader: a ResultsFile, or an error
    load_challenge_results(RESULTS_PATH).measured_row("lora")           # the tables: never raises
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from helpers.jsonfile import describe, read_json, validate, write_json
from helpers.memory import format_bytes
from helpers.paths import RESULTS_PATH, shown_path

DEFAULT_RESULTS = RESULTS_PATH
"""Where the challenge notebook writes its measurements (:data:`helpers.paths.RESULTS_PATH`)."""

STRATEGIES = ("full", "lora", "qlora")
"""Fine-tuning strategies, in table order."""

NOT_MEASURED = "not measured"

Strategy = Literal["full", "lora", "qlora"]
Count = Annotated[StrictInt, Field(ge=0)]
"""A count or a size in bytes: a non-negative ``int`` (not a ``bool``, not a string)."""
Seconds = Annotated[StrictFloat | StrictInt, Field(ge=0)]
Fraction = Annotated[StrictFloat | StrictInt, Field(ge=0, le=1)]


class ResultsError(ValueError):
    """The results file (or an update to it) cannot be used; the message says why and what to do."""


class Scores(BaseModel):
    """One model's scores on a split, as ``helpers.challenge.task.score`` returns them."""

    model_config = ConfigDict(extra="allow")

    exact_match: Fraction
    valid_json: Fraction | None = None
    field_accuracy: dict[str, Fraction] | None = None


class ResultsFile(BaseModel):
    """The schema of ``results.json``; see the module's docstring for the layout."""

    model_config = ConfigDict(extra="forbid")

    base_model: str | None = None
    epochs: Count | None = None
    epochs_by_strategy: dict[Strategy, Count] = {}
    total_params: Count | None = None
    trainable_params: dict[Strategy, Count] = {}
    metrics: dict[Literal["base", "full", "lora", "qlora"], Scores] = {}
    peak_memory_bytes: dict[Strategy, Count] = {}
    train_seconds: dict[Strategy, Seconds] = {}
    checkpoint_bytes: dict[Strategy, Count] = {}

    def as_json(self) -> dict[str, Any]:
        """The JSON object to write: only the keys that were set."""
        return self.model_dump(mode="json", exclude_unset=True)


_AGAIN = "Re-run the results cell of 04 · LoRA challenge to rewrite it."


def read_results(path: str | Path = DEFAULT_RESULTS) -> ResultsFile | None:
    """The validated results at ``path``, or ``None`` when there is no file.

    Raises:
        ResultsError: the file cannot be read, is not JSON, or does not fit :class:`ResultsFile`
            (the message names the first wrong field).
    """
    return read_json(path, ResultsFile, what=describe(path, "The challenge results file"), again=_AGAIN,
                     error=ResultsError)


def update_results(updates: Mapping[str, Any], path: str | Path = DEFAULT_RESULTS) -> dict[str, Any]:
    """Merge ``updates`` into the results file, validate the whole, and write it back atomically.

    Nested objects are merged key by key, so a QLoRA run adds ``"qlora"`` entries next to the LoRA
    run's instead of replacing them. An existing file that is unreadable or off-schema is replaced.

    Returns:
        The merged results object, as written.

    Raises:
        ResultsError: the merged object does not fit :class:`ResultsFile` (e.g. a count typed as a
            string); the file is left as it was.
    """
    try:
        current = read_results(path)
    except ResultsError:
        current = None
    merged = _merge(current.as_json() if current else {}, updates)
    results = validate(merged, ResultsFile, what=describe(path, "The challenge results file"),
                       again="Write the values the notebook computed.", error=ResultsError)
    write_json(results, path, exclude_unset=True)
    return results.as_json()


def _merge(base: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------------ tables


@dataclass(frozen=True)
class StrategyResult:
    """What the challenge measured for one strategy; ``None`` = not measured.

    Attributes:
        strategy: ``"full"``, ``"lora"`` or ``"qlora"``.
        trainable_params: parameters updated by training.
        total_params: parameters of the whole model (shared by all strategies).
        peak_memory_bytes: peak memory while training, in bytes.
        train_seconds: wall time of training, in seconds.
        exact_match: share of evaluation answers exactly right after training (0 to 1).
        checkpoint_bytes: size of what has to be saved (adapter or full model), in bytes.
    """

    strategy: str
    trainable_params: int | None = None
    total_params: int | None = None
    peak_memory_bytes: int | None = None
    train_seconds: float | None = None
    exact_match: float | None = None
    checkpoint_bytes: int | None = None


@dataclass(frozen=True)
class ChallengeResults:
    """The challenge's results, ready for a table.

    Attributes:
        strategies: one :class:`StrategyResult` per name in :data:`STRATEGIES` (always all three).
        base_exact_match: exact match of the base model before fine-tuning, or ``None``.
        base_model: model id the challenge fine-tuned, or ``None``.
        epochs: training epochs, or ``None``.
        found: whether a usable results file was read.
        note: one line: where the numbers come from, or why there are none.
    """

    strategies: dict[str, StrategyResult]
    base_exact_match: float | None
    base_model: str | None
    epochs: int | None
    found: bool
    note: str

    def measured_row(self, strategy: str) -> dict[str, str]:
        """Formatted measurements of one strategy, :data:`NOT_MEASURED` where missing.

        Returns:
            ``{"trainable params", "peak training memory", "training time", "exact match after",
            "checkpoint size"}`` mapped to strings such as ``"460,800 (0.34%)"``, ``"2,508 MiB"``,
            ``"1 min 05 s"``, ``"85 %"``, ``"1.8 MiB"``.

        Raises:
            KeyError: ``strategy`` is not in :data:`STRATEGIES`.
        """
        r = self.strategies[strategy]
        return {
            "trainable params": _params(r.trainable_params, r.total_params),
            "peak training memory": _or_not_measured(r.peak_memory_bytes, lambda b: f"{b / 2**20:,.0f} MiB"),
            "training time": _or_not_measured(r.train_seconds, _duration),
            "exact match after": _or_not_measured(r.exact_match, lambda f: f"{f:.0%}"),
            "checkpoint size": _or_not_measured(r.checkpoint_bytes, format_bytes),
        }


def tabulate(results: ResultsFile, note: str = "") -> ChallengeResults:
    """Turn validated results into :class:`ChallengeResults` (absent values become ``None``)."""

    def exact_match(name: str) -> float | None:
        scores = results.metrics.get(name)  # type: ignore[call-overload]
        return float(scores.exact_match) if scores else None

    strategies = {
        s: StrategyResult(
            strategy=s,
            trainable_params=results.trainable_params.get(s),  # type: ignore[call-overload]
            total_params=results.total_params,
            peak_memory_bytes=results.peak_memory_bytes.get(s),  # type: ignore[call-overload]
            train_seconds=results.train_seconds.get(s),  # type: ignore[call-overload]
            exact_match=exact_match(s),
            checkpoint_bytes=results.checkpoint_bytes.get(s),  # type: ignore[call-overload]
        )
        for s in STRATEGIES
    }
    return ChallengeResults(strategies, exact_match("base"), results.base_model, results.epochs, True, note)


_NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


def _describe(results: ResultsFile, where: str) -> str:
    epochs = f"{results.epochs} epochs" if results.epochs is not None else None
    if epochs:
        others = [f"{_NAMES[s]} {n}" for s, n in results.epochs_by_strategy.items() if n != results.epochs]
        if others:
            epochs += f" ({', '.join(others)})"
    setup = ", ".join(part for part in (results.base_model, epochs) if part)
    return f"Measured by 04 · LoRA challenge ({where})" + (f": {setup}." if setup else ".")


def load_challenge_results(path: str | Path = DEFAULT_RESULTS) -> ChallengeResults:
    """Read the results at ``path`` for a table; never raises for a missing or broken file.

    Args:
        path: the challenge's results file (default :data:`DEFAULT_RESULTS`).

    Returns:
        :class:`ChallengeResults`. Without a usable file every value is ``None`` (shown as
        :data:`NOT_MEASURED`), ``found`` is ``False`` and ``note`` says what is wrong and what to do.
    """
    where = shown_path(path)
    try:
        results = read_results(path)
    except ResultsError as err:
        return dataclasses.replace(tabulate(ResultsFile()), found=False, note=str(err))
    if results is None:
        return dataclasses.replace(tabulate(ResultsFile()), found=False,
                                   note=f"No challenge results yet ({where}): run 04 · LoRA challenge first.")
    return tabulate(results, _describe(results, where))


def _or_not_measured(value: float | None, fmt: Callable[[Any], str]) -> str:
    return NOT_MEASURED if value is None else fmt(value)


def _params(trainable: int | None, total: int | None) -> str:
    if trainable is None:
        return NOT_MEASURED
    share = f" ({trainable / total:.2%})" if total else ""
    return f"{trainable:,}{share}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
