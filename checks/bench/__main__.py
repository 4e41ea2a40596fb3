"""``make bench [CPU=avx2]``: measure this machine and merge the figures into ``build/bench/bench.json``."""

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
    from checks.bench.report import BENCH_PATH, PLOT_PATH, BenchRun, merge_run, summary
    from helpers import env
    from helpers.paths import SOLUTIONS_DIR, shown_path

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
    plot(bench, PLOT_PATH)
    print("\n" + "\n".join(summary(r) for r in bench.runs.values()))
    print(f"\n{len(bench.runs)} run(s) in {shown_path(BENCH_PATH)}, plot {shown_path(PLOT_PATH)} "
          f"({run.seconds / 60:.1f} min)")
    return 0


def _inference():
    from checks.bench.inference import measure_inference

    return measure_inference()


def _training():
    from checks.bench.training import measure_training

    return measure_training()


def _notebooks(solutions, kind: str):
    from checks.bench.notebooks import run_solutions
    from checks.bench.report import BENCH_DIR

    return run_solutions(solutions, BENCH_DIR / kind / "notebooks")


def _grading(notebooks):
    from checks.bench.grading import grade_solutions

    return grade_solutions(notebooks)


if __name__ == "__main__":
    raise SystemExit(main())
