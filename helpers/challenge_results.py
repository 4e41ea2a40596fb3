"""Read the LoRA challenge's measured results (``outputs/challenge/results.json``) for comparison tables.

The challenge notebook writes one JSON object; every key may be absent::

    {"base_model": str, "epochs": int (the LoRA run's), "epochs_by_strategy": {"lora" | ...: int},
     "total_params": int,
     "trainable_params": {"lora": int, "qlora": int, "full": int},
     "metrics": {"base" | "lora" | "qlora" | "full": {"exact_match": float, "valid_json": float,
                                                       "field_accuracy": {field: float}}},
     "peak_memory_bytes": {...: int}, "train_seconds": {...: float}, "checkpoint_bytes": {...: int}}

Fractions (``exact_match``, ``valid_json``) are between 0 and 1. A missing or ill-typed value is
*not measured*, never an error, so the table works before, during and after the challenge.

>>> challenge = load_challenge_results()          # outputs/challenge/results.json
>>> print(challenge.note)
>>> challenge.measured_row("lora")["trainable params"]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.grading.registry import REPO_ROOT
from helpers.memory import format_bytes

DEFAULT_RESULTS = REPO_ROOT / "outputs" / "challenge" / "results.json"
"""Where the challenge notebook writes its measurements."""

STRATEGIES = ("full", "lora", "qlora")
"""Fine-tuning strategies, in table order."""

NOT_MEASURED = "not measured"


class ResultsError(ValueError):
    """The results file exists but cannot be used; the message says why and what to do."""


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


def shown_path(path: str | Path) -> str:
    """``path`` relative to the repository when it is inside it, else as given (never made absolute)."""
    target = Path(path)
    try:
        return str(target.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(target)


def read_results(path: str | Path = DEFAULT_RESULTS) -> dict[str, Any] | None:
    """The raw results object, or ``None`` when there is no file at ``path``.

    Raises:
        ResultsError: the file cannot be read, is not JSON, or is not a JSON object.
    """
    where = shown_path(path)
    again = "Re-run the results cell of 04 · LoRA challenge to rewrite it."
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"The challenge results {where} could not be read ({type(err).__name__}). {again}") \
            from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ResultsError(f"The challenge results {where} are not valid JSON "
                           f"({err.msg}: line {err.lineno}, column {err.colno}). {again}") from None
    if not isinstance(data, dict):
        raise ResultsError(f"The challenge results {where} are not a JSON object. {again}")
    return data


def parse_results(data: Mapping[str, Any], note: str = "") -> ChallengeResults:
    """Turn a results object into :class:`ChallengeResults`; absent or ill-typed values become ``None``."""

    def section(key: str) -> Mapping[str, Any]:
        value = data.get(key)
        return value if isinstance(value, Mapping) else {}

    metrics = section("metrics")

    def exact_match(name: str) -> float | None:
        entry = metrics.get(name)
        return _fraction(entry.get("exact_match")) if isinstance(entry, Mapping) else None

    total = _count(data.get("total_params"))
    strategies = {
        s: StrategyResult(
            strategy=s,
            trainable_params=_count(section("trainable_params").get(s)),
            total_params=total,
            peak_memory_bytes=_count(section("peak_memory_bytes").get(s)),
            train_seconds=_number(section("train_seconds").get(s)),
            exact_match=exact_match(s),
            checkpoint_bytes=_count(section("checkpoint_bytes").get(s)),
        )
        for s in STRATEGIES
    }
    base_model = data.get("base_model") if isinstance(data.get("base_model"), str) else None
    return ChallengeResults(strategies, exact_match("base"), base_model, _count(data.get("epochs")), True, note)


_NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


def _describe(results: ChallengeResults, where: str, data: Mapping[str, Any] | None = None) -> str:
    epochs = f"{results.epochs} epochs" if results.epochs is not None else None
    by_strategy = (data or {}).get("epochs_by_strategy")
    if epochs and isinstance(by_strategy, Mapping):
        others = [f"{_NAMES.get(s, s)} {n}" for s, n in by_strategy.items()
                  if _count(n) is not None and n != results.epochs]
        if others:
            epochs += f" ({', '.join(others)})"
    setup = ", ".join(part for part in (results.base_model, epochs) if part)
    return f"Measured by 04 · LoRA challenge ({where})" + (f": {setup}." if setup else ".")


def load_challenge_results(path: str | Path = DEFAULT_RESULTS) -> ChallengeResults:
    """Read and parse the results at ``path``; never raises for a missing or broken file.

    Args:
        path: the challenge's results file (default :data:`DEFAULT_RESULTS`).

    Returns:
        :class:`ChallengeResults`. Without a usable file every value is ``None`` (shown as
        :data:`NOT_MEASURED`), ``found`` is ``False`` and ``note`` says what to do.
    """
    where = shown_path(path)
    empty = {s: StrategyResult(s) for s in STRATEGIES}
    try:
        data = read_results(path)
    except ResultsError as err:
        return ChallengeResults(empty, None, None, None, False, str(err))
    if data is None:
        return ChallengeResults(empty, None, None, None, False,
                                f"No challenge results yet ({where}): run 04 · LoRA challenge first.")
    results = parse_results(data)
    return dataclasses.replace(results, note=_describe(results, where, data))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else None


def _fraction(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number <= 1 else None


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
