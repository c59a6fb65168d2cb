"""`uv run python -m bench [scale ...] [--repeat N]`: run the benchmarks, write
bench/results/<scale>.json and the table in docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.report import write_table
from bench.runner import bench_scale
from bench.scales import SCALES, smoke_scale

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "scales",
        nargs="*",
        default=["commune", "province"],
        help=f"any of {', '.join(SCALES)}, smoke (default: commune province)",
    )
    parser.add_argument("--repeat", type=int, help="runs per measured step (default: the scale's, 3 or 1)")
    parser.add_argument("--month-repeat", type=int, help="runs of each new-month measurement (default: --repeat)")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work", help="generated data and warehouses")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--no-table", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)

    args.results.mkdir(parents=True, exist_ok=True)
    for name in args.scales:
        scale = smoke_scale() if name == "smoke" else SCALES[name]
        result = bench_scale(scale, args.workdir, args.repeat, args.month_repeat)
        path = args.results / f"{name}.json"
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"{name}: build {result['build']['seconds']:.1f} s, written {path}")
    if not args.no_table:
        write_table(args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
