"""``make bench [CPU=avx2]``: measure this machine and merge the figures into ``build/bench/bench.json``.

Exits with status 1 when a solution's ``helpers.check`` cell took longer than
:data:`checks.grader.limits.CHECK_BUDGET_S` (the figures are written all the same), 2 on a wrong argument.
"""

from __future__ import annotations

import argparse
import time

SECTIONS: tuple[str, ...] = ("notebooks", "inference", "training", "grading")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", default="native", help="native, or avx2 under the stand-in (make bench CPU=avx2)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to measure (default: all of {', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    from checks.bench.machine import check_kind

    try:
        check_kind(args.cpu)
        if unknown or not sections:
            raise ValueError(f"--only {','.join(unknown)}: the sections are {', '.join(SECTIONS)}.")
    except ValueError as err:
        print(f"error: {err}")
        return 2

    from checks.bench.machine import describe
    from checks.bench.plot import plot
    from checks.bench.report import BenchRun, merge_run, over_budget, summary
    from checks.grader.limits import CHECK_BUDGET_S
    from helpers import env
    from helpers.paths import BENCH_PATH, BENCH_PLOT, SOLUTIONS_DIR, shown_path

    env.apply()
    env.quiet_libraries()
    started = time.perf_counter()
    run = BenchRun(machine=describe(args.cpu))
    print(f"make bench on {run.machine.cpu}: torch runs {run.machine.torch_capability} kernels, "
          f"mixed precision {run.machine.mixed_precision}, {run.machine.threads} threads")
    solutions = sorted(SOLUTIONS_DIR.glob("*.ipynb"))
    measures = {
        "inference": ("Model load and generation", _inference),
        "training": ("Training steps (one process each)", _training),
        "notebooks": ("Solution notebooks, bonus sections included", lambda: _notebooks(solutions, args.cpu)),
        "grading": ("Grading the solutions (make grade)",
                    lambda: _grading([p for p in solutions if not p.name.startswith("05_")])),
    }
    for section in SECTIONS:
        if section in sections:
            title, measure = measures[section]
            print(title, flush=True)
            setattr(run, section, measure())
            run.seconds = round(time.perf_counter() - started, 1)
            merge_run(run)  # after each section: an interrupted benchmark keeps what it measured
    bench = merge_run(run)
    plot(bench, BENCH_PLOT)
    print("\n" + "\n".join(summary(r) for r in bench.runs.values()))
    print(f"\n{len(bench.runs)} run(s) in {shown_path(BENCH_PATH)}, plot {shown_path(BENCH_PLOT)} "
          f"({run.seconds / 60:.1f} min)")
    slow = over_budget(run) if "notebooks" in sections else []
    if slow:
        print(f"\n{len(slow)} check() cell(s) over the {CHECK_BUDGET_S:.0f} s budget (checks.grader.limits."
              "CHECK_BUDGET_S): make them faster, or mark the slow check grading_only.")
        return 1
    return 0


def _inference():
    from checks.bench.inference import measure_inference

    return measure_inference()


def _training():
    from checks.bench.training import measure_training

    return measure_training()


def _notebooks(solutions, kind: str):
    from checks.bench.notebooks import run_solutions
    from helpers.paths import BENCH_DIR

    return run_solutions(solutions, BENCH_DIR / kind / "notebooks")


def _grading(notebooks):
    from checks.bench.grading import grade_solutions

    return grade_solutions(notebooks)


if __name__ == "__main__":
    raise SystemExit(main())
