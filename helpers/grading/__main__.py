"""``make grade``: grade notebooks in fresh processes and print a score table.

Usage: ``python -m helpers.grading [NOTEBOOK ...] [--json PATH] [--timeout S]``.
With no notebook, grades every learner notebook in ``notebooks/`` that has an
autograder part.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.grading.registry import REPO_ROOT, available_parts, load_part
from helpers.grading.report import format_results, write_json
from helpers.grading.runner import DEFAULT_TIMEOUT_S, grade_notebook

DEFAULT_REPORT = REPO_ROOT / "build" / "grades" / "report.json"


def _default_notebooks() -> list[Path]:
    prefixes = [load_part(p).notebook_prefix for p in available_parts()]
    return sorted(nb for nb in (REPO_ROOT / "notebooks").glob("*.ipynb")
                  if any(nb.name.startswith(p) for p in prefixes if p))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make grade", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to grade (default: notebooks/)")
    parser.add_argument("--json", type=Path, default=DEFAULT_REPORT, help="where to write the JSON report")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per notebook")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or _default_notebooks()
    reports = []
    for nb in notebooks:
        try:
            report = grade_notebook(nb, timeout=args.timeout)
        except (FileNotFoundError, ValueError) as err:
            print(f"{nb}: {err}", file=sys.stderr)
            return 2
        reports.append(report.as_dict())
        print(format_results(report.results, f"{Path(nb).name}  ({report.seconds:.0f} s)"))
        for error in report.cell_errors:
            print(f"  note: code cell {error['cell']} raised {error['error']}")
        print()
    score = sum(r["score"] for r in reports)
    total = sum(r["total"] for r in reports)
    print(f"{'notebook':<48}{'score':>8}")
    for r in reports:
        print(f"{Path(r['notebook']).name:<48}{r['score']:>5}/{r['total']:<3}")
    print(f"{'total':<48}{score:>5}/{total:<3}")
    path = write_json(reports, args.json)
    print(f"report written to {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
