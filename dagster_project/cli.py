"""`pcw`: the warehouse's command line.

    pcw generate   write sample landing files (docs/data-contract.md)
    pcw run        build the warehouse: sample data if the landing folder is empty, then every asset
    pcw marts      rebuild only the marts from the loaded raw tables, on the dbt target PCW_DBT_TARGET
    pcw summary    print the headline figures from the marts
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from dagster_project.settings import Settings

PUBLISHED = {
    # domain.md §6: Tuyên Quang, mid-2024
    "outstanding_principal": 4_350_000_000_000,
    "entrusted_share": 0.9939,
    "borrowers_with_outstanding": 80_052,
    "groups_with_outstanding": 2_374,
    "local_capital_balance": 111_000_000_000,
    "local_capital_multiple": 280,
}


def _generate(args: argparse.Namespace) -> int:
    from dagster_project.sample_data import generate
    from dagster_project.sample_data.cli import config_from_args

    settings = Settings.from_env()
    landing_dir = Path(args.landing_dir) if args.landing_dir else settings.landing_dir
    started = time.perf_counter()
    summary = generate(landing_dir, config_from_args(args))
    print(f"Sample landing files written to {landing_dir} in {time.perf_counter() - started:.1f} s")
    for source, rows in summary.get("rows", {}).items():
        print(f"  {source:<22} {rows:>12,} rows")
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    settings.export_to_env()
    started = time.perf_counter()
    if args.regenerate or not any(settings.landing_dir.glob("*/*/*")):
        from dagster_project.sample_data import GenerationConfig, generate

        print(f"Generating the default sample (reference province) into {settings.landing_dir} …")
        generate(settings.landing_dir, GenerationConfig())

    import dagster as dg

    from dagster_project.build import build_warehouse

    print(f"Building the warehouse {settings.warehouse_path} …")
    # With DAGSTER_HOME set (make run), the runs are recorded where `dagster dev` shows them.
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        result = build_warehouse(settings, instance)
    elapsed = time.perf_counter() - started
    if not result.success:
        for line in result.failures():
            print(f"  {line}", file=sys.stderr)
        print(f"Warehouse build FAILED after {elapsed:.0f} s", file=sys.stderr)
        return 1
    print(f"Warehouse built in {elapsed:.0f} s")
    return _print_summary(settings, date.fromisoformat(args.as_of))


def _marts(args: argparse.Namespace) -> int:
    import dagster as dg

    from dagster_project.build import build_marts
    from dagster_project.settings import dbt_target

    settings = Settings.from_env()
    settings.export_to_env()
    started = time.perf_counter()
    print(f"Building the marts on dbt target {dbt_target()} …")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        result = build_marts(settings, instance)
    elapsed = time.perf_counter() - started
    if not result.success:
        for line in result.failures():
            print(f"  {line}", file=sys.stderr)
        print(f"Marts build FAILED after {elapsed:.0f} s", file=sys.stderr)
        return 1
    print(f"Marts built in {elapsed:.0f} s")
    return 0


def _summary(args: argparse.Namespace) -> int:
    return _print_summary(Settings.from_env(), date.fromisoformat(args.as_of))


def _print_summary(settings: Settings, as_of: date) -> int:
    from dagster_project.headlines import headline_figures

    figures = headline_figures(settings.warehouse_path, as_of)
    if not figures:
        print(f"No balances at {as_of} in {settings.warehouse_path}")
        return 1
    for row in figures:
        print(f"\nHeadline figures, province {row['province_code']} {row['province_name']}, at {as_of}:")
        lines = [
            ("Outstanding (bn VND)", row["outstanding_principal"] / 1e9, PUBLISHED["outstanding_principal"] / 1e9, "{:,.1f}"),
            ("  through the organisations (%)", 100 * row["entrusted_share"], 100 * PUBLISHED["entrusted_share"], "{:.2f}"),
            ("Borrowers with outstanding loans", row["borrowers_with_outstanding"], PUBLISHED["borrowers_with_outstanding"], "{:,.0f}"),
            ("Savings and Loan Groups", row["groups_with_outstanding"], PUBLISHED["groups_with_outstanding"], "{:,.0f}"),
            ("Local budget capital entrusted (bn VND)", row["local_capital_balance"] / 1e9, PUBLISHED["local_capital_balance"] / 1e9, "{:,.1f}"),
            ("  multiple of its 2014 level", row["local_capital_multiple"], PUBLISHED["local_capital_multiple"], "{:,.0f}"),
        ]
        print(f"  {'':<42}{'warehouse':>14}{'published':>14}")
        for label, value, published, fmt in lines:
            shown = fmt.format(value) if value is not None else "–"
            print(f"  {label:<42}{shown:>14}{fmt.format(published):>14}")
    print(f"\nWarehouse: {settings.warehouse_path}\nLanding files: {settings.landing_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pcw", description="Policy Credit Warehouse")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write sample landing files")
    generate.add_argument("--landing-dir", help="default: $PCW_LANDING_DIR or data/landing")
    from dagster_project.sample_data.cli import add_generate_arguments

    add_generate_arguments(generate)
    generate.set_defaults(handler=_generate)

    run = commands.add_parser("run", help="build the warehouse from the landing files (sample data if none)")
    run.add_argument("--regenerate", action="store_true", help="write the default sample even if landing files exist")
    run.add_argument("--as-of", default="2024-06-30", help="date of the headline figures printed at the end")
    run.set_defaults(handler=_run)

    marts = commands.add_parser("marts", help="rebuild the marts only, on the dbt target PCW_DBT_TARGET (duckdb or spark)")
    marts.set_defaults(handler=_marts)

    summary = commands.add_parser("summary", help="print the headline figures")
    summary.add_argument("--as-of", default="2024-06-30")
    summary.set_defaults(handler=_summary)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
