"""``build/bench/bench.png``: the benchmark's figures, native and AVX2 stand-in side by side."""

from __future__ import annotations

from pathlib import Path

from checks.bench.report import ALL_TASKS, BenchFile
from checks.grader.limits import CHECK_BUDGET_S

COLORS = {"native": "tab:blue", "avx2": "tab:orange"}


def _bars(ax, groups: list[str], values: dict[str, list[float | None]], title: str, unit: str) -> None:
    kinds = list(values)
    width = 0.8 / max(1, len(kinds))
    for k, kind in enumerate(kinds):
        xs = [i + (k - (len(kinds) - 1) / 2) * width for i in range(len(groups))]
        heights = [v if v is not None else 0.0 for v in values[kind]]
        secondary = " " in kind  # "native slowest check()": the kind's colour, hatched
        bars = ax.bar(xs, heights, width, label=kind, color=COLORS.get(kind.split()[0]),
                      alpha=0.5 if secondary else 1.0, hatch="//" if secondary else None)
        ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.3g}" for v in values[kind]], fontsize=7)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)
    ax.legend(fontsize=8)


def plot(bench: BenchFile, path: Path) -> Path:
    """Draw the four panels of ``bench`` into ``path`` (PNG); returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = bench.runs
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    with_notebooks = {k: r for k, r in runs.items() if r.notebooks}
    if with_notebooks:
        names = [n.notebook[:2] for n in next(iter(with_notebooks.values())).notebooks]
        values = {k: [n.seconds for n in r.notebooks] for k, r in with_notebooks.items()}
        for k, r in with_notebooks.items():
            core = [n.core_seconds for n in r.notebooks if n.core_seconds is not None]
            values[k] = [*values[k], core[0] if core else None, r.make_run_seconds, r.make_run_bonus_seconds]
        _bars(axes[0][0], [*names, "04 core", "make run", "BONUS=1"], values, "Solution notebooks, wall time",
              "seconds")
    with_inference = {k: r.inference for k, r in runs.items() if r.inference}
    if with_inference:
        precisions = [g.precision for g in next(iter(with_inference.values())).generation]
        shape = next(iter(with_inference.values()))
        _bars(axes[0][1], precisions, {k: [g.tokens_per_s for g in i.generation] for k, i in with_inference.items()},
              f"Greedy generation ({shape.prompts} prompts, {shape.max_new_tokens} new tokens each)", "new tokens / s")
    with_training = {k: r.training for k, r in runs.items() if r.training}
    if with_training:
        modes = [m.mode for m in next(iter(with_training.values())).modes]
        values = {k: [m.seconds_per_step for m in t.modes] + [t.recipe.naive.seconds_per_step]
                  for k, t in with_training.items()}
        _bars(axes[1][0], [*modes, "naive lora"], values, "Training step (4 tickets)", "seconds / step")
    with_grading = {k: r for k, r in runs.items() if r.grading or r.notebooks}
    if with_grading:
        parts = ["concept", "demo", "exercise", "challenge"]
        values = {}
        for kind, run in with_grading.items():
            grade = {g.part: g.seconds for g in run.grading or []}
            slowest = {}
            for n in run.notebooks or []:
                for c in n.checks:
                    if c.task != ALL_TASKS:
                        slowest[c.part] = max(slowest.get(c.part, 0.0), c.seconds)
            values[f"{kind}"] = [grade.get(p) for p in parts]
            values[f"{kind} slowest check(part, task)"] = [slowest.get(p) for p in parts]
        _bars(axes[1][1], parts, values, "make grade per part, and the slowest check(part, task) cell", "seconds")
        axes[1][1].axhline(CHECK_BUDGET_S, color="grey", linestyle="--", linewidth=0.8,
                           label=f"check() budget ({CHECK_BUDGET_S:.0f} s)")
        axes[1][1].legend(fontsize=8)
    cpu = "; ".join(f"{k}: {r.machine.cpu} ({r.machine.torch_capability}, {r.machine.date[:10]})"
                    for k, r in runs.items())
    fig.suptitle(f"make bench: {cpu}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
