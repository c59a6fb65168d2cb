"""`pcw`: the warehouse's command line.

pcw generate     write sample landing files (docs/data-contract.md)
pcw run          build the warehouse: sample data if the landing folder is empty, then every asset
pcw marts        rebuild only the marts from the loaded raw tables, on the dbt target PCW_DBT_TARGET
pcw kpis         a province's headline figures from the marts, beside a recomputation from the
                 raw tables and the published figures
pcw plan export  the 2026–2030 credit plan for planners, demand-led or capital-led: the workbook to
                 sign, CSV / Parquet, charts and an HTML report, from the published copies of the marts
pcw fingerprint  rows and a content hash of every table: two loads of the same files print the same
pcw dev          the Dagster UI (dagster dev) on the same definitions; Ctrl-C or SIGTERM stops it
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from dagster_project.cli.arguments import Parser, iso_date, resolve_province, year_range
from dagster_project.settings import Settings, WarehouseBusy, read_warehouse


class UsageError(Exception):
    """A value the command cannot use, found before any work: exit code 2."""


class NotBuilt(Exception):
    """What the command reads does not exist yet: exit code 1."""


def _generate(args: argparse.Namespace, settings: Settings) -> int:
    from dagster_project.ingest.admin_units import old_communes
    from sample_data import generate
    from sample_data.cli import config_from_args

    try:
        year_range(args.start_year, args.end_year)
    except argparse.ArgumentTypeError as error:
        raise UsageError(error) from None
    if args.provinces != ["all"]:
        provinces = dict(old_communes()[["province_code", "province_name"]].drop_duplicates().itertuples(index=False))
        try:
            args.provinces = [resolve_province(p, provinces) for p in args.provinces]
        except argparse.ArgumentTypeError as error:
            raise UsageError(f"--provinces: {error} (old, 63-province codes; or all)") from None
    landing_dir = Path(args.landing_dir) if args.landing_dir else settings.landing_dir
    started = time.perf_counter()
    summary = generate(landing_dir, config_from_args(args))
    print(f"Sample landing files written to {landing_dir} in {time.perf_counter() - started:.1f} s")
    for source, rows in summary.get("rows", {}).items():
        print(f"  {source:<22} {rows:>12,} rows")
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    if args.regenerate or not any(settings.landing_dir.glob("*/*/*")):
        from sample_data import GenerationConfig, generate

        print(f"Generating the default sample (reference province) into {settings.landing_dir} …")
        generate(settings.landing_dir, GenerationConfig())

    from dagster_project.warehouse.build_plan import plan_build

    print(f"Building the warehouse {settings.warehouse_path} …")
    plan = plan_build(settings)  # before Dagster loads: an unchanged warehouse answers in a second or two
    if plan.nothing_to_do:
        print(
            f"Nothing new in {settings.landing_dir} and the marts are up to date: nothing to build "
            f"({time.perf_counter() - started:.1f} s)"
        )
        _print_not_loaded(settings)
    else:
        from functools import partial

        from dagster_project.cli.build import build_warehouse

        built = _build(settings, partial(build_warehouse, plan=plan), "Warehouse", started)
        _print_not_loaded(settings)
        if not built:
            return 1
    # the build succeeded: the figures are a summary, their date a default the data may not reach;
    # `pcw kpis` adds their recomputation from the raw tables
    _print_summary(settings, args.as_of, cross_check=False)
    return 0


def _kpis(args: argparse.Namespace, settings: Settings) -> int:
    provinces = _warehouse_provinces(settings)
    try:
        province = resolve_province(args.province, provinces) if args.province else None
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"--province: {error}") from None
    return _print_summary(settings, args.as_of, province)


def _marts(args: argparse.Namespace, settings: Settings) -> int:
    from dagster_project.cli.build import build_marts

    print(f"Building the marts on dbt target {settings.dbt_target} …")
    return 0 if _build(settings, build_marts, "Marts", time.perf_counter()) else 1


def _build(settings: Settings, builder, what: str, started: float) -> bool:
    """Run `builder` (build.py), saying each step as it goes; failed steps and checks go to stderr."""
    import dagster as dg

    from dagster_project.cli.progress import BuildProgress
    from dagster_project.cli.runs import Stopped, free_slots, recover_dead_runs

    # With DAGSTER_HOME set (make run), the runs are recorded where `dagster dev` shows them.
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        for dead in recover_dead_runs(instance):
            print(
                f"A {dead.job_name} run ({dead.run_id}) had died with its process (pid {dead.pid}): "
                "marked failed, its place in the pool freed"
            )
        try:
            result = builder(settings, instance, progress=BuildProgress(sys.stdout))
        except Stopped as stopped:
            print(
                f"\n{what} build stopped by {stopped}: the {stopped.run.job_name} run ({stopped.run.run_id}) "
                "is canceled; build again to finish",
                file=sys.stderr,
                flush=True,
            )
            sys.stdout.flush()
            # a step waiting for the pool retries its claim every few seconds: one may have come in
            # since the run was canceled
            free_slots(instance, stopped.run.run_id)
            # the run's thread may be inside a step: end the process now (a load commits whole or not at all)
            os._exit(stopped.exit_code)
    elapsed = time.perf_counter() - started
    if not result.success:
        for line in result.failures():
            print(f"  {line}", file=sys.stderr)
        print(f"{what} build FAILED after {elapsed:.0f} s", file=sys.stderr)
        return False
    print(f"{what} built in {elapsed:.0f} s")
    return True


def _print_not_loaded(settings: Settings) -> None:
    """Files of the landing folder that no load takes (the loads record them in the manifest)."""
    from dagster_project.ingest.landing import not_loaded

    if strays := not_loaded(settings.landing_dir):
        print(f"Not loaded from {settings.landing_dir}:")
        for f in strays[:20]:
            print(f"  {f.source_file}: {f.reason}")
        if len(strays) > 20:
            print(f"  … and {len(strays) - 20} more")


def _warehouse_provinces(settings: Settings) -> dict[str, str]:
    """code -> name of the provinces the built warehouse holds."""

    if not settings.warehouse_path.exists():
        raise NotBuilt(f"No warehouse at {settings.warehouse_path}: build it first with `pcw run`")
    with read_warehouse(settings.warehouse_path) as conn:
        built = conn.execute(
            "select count(*) from information_schema.tables where table_name = 'mart_province_headlines'"
        ).fetchone()[0]
        if not built:
            raise NotBuilt(f"The warehouse {settings.warehouse_path} has no marts yet: build them with `pcw run`")
        return dict(
            conn.execute("select distinct province_code, province_name from mart_province_headlines").fetchall()
        )


def _print_summary(
    settings: Settings, as_of: date | None, province: str | None = None, cross_check: bool = True
) -> int:
    """The headline figures at the last month-end on or before `as_of`; without one, at the
    published figures' date if the warehouse reaches it, else at its last month-end. The cross
    check recomputes them from the raw tables (a pass over the whole ledger)."""
    from dagster_project.outputs.headlines import (
        PUBLISHED,
        PUBLISHED_AS_OF,
        REFERENCE_PROVINCE,
        headline_figures,
        raw_figures,
    )

    _warehouse_provinces(settings)
    figures = headline_figures(settings.warehouse_path, as_of or PUBLISHED_AS_OF, province)
    if not figures and as_of is None:
        figures = headline_figures(settings.warehouse_path, date.max, province)
    if not figures:
        print(
            f"No balances on or before {as_of}{f' for province {province}' if province else ''} "
            f"in {settings.warehouse_path}",
            file=sys.stderr,
        )
        return 1
    recomputed = raw_figures(settings.warehouse_path, figures[0]["as_of_date"]) if cross_check else None
    rows = [
        ("Outstanding (bn VND)", "outstanding_principal", 1e-9, "{:,.1f}"),
        ("  through the organisations (%)", "entrusted_share", 100, "{:.2f}"),
        ("Borrowers with outstanding loans", "borrowers_with_outstanding", 1, "{:,.0f}"),
        ("Savings and Loan Groups", "groups_with_outstanding", 1, "{:,.0f}"),
        ("Local budget capital entrusted (bn VND)", "local_capital_balance", 1e-9, "{:,.1f}"),
        ("  multiple of its 2014 level", "local_capital_multiple", 1, "{:,.0f}"),
    ]

    def shown(value, scale, fmt):
        return fmt.format(value * scale) if value is not None else "–"

    for row in figures:
        code = row["province_code"]
        raw = recomputed.get(code, {}) if recomputed is not None else None
        published = PUBLISHED if (code, row["as_of_date"]) == (REFERENCE_PROVINCE, PUBLISHED_AS_OF) else {}
        print(f"\nHeadline figures, province {code} {row['province_name']}, at {row['as_of_date']}:")
        print(
            f"  {'':<42}{'marts':>12}"
            + (f"{'raw tables':>12}" if raw is not None else "")
            + f"{'published':>12}{'vs published':>14}"
        )
        for label, key, scale, fmt in rows:
            value, reference = row[key], published.get(key)
            gap = f"{100 * (value / reference - 1):+.1f} %" if value is not None and reference else ""
            print(
                f"  {label:<42}{shown(value, scale, fmt):>12}"
                + (f"{shown(raw.get(key), scale, fmt):>12}" if raw is not None else "")
                + f"{shown(reference, scale, fmt):>12}{gap:>14}"
            )
    print(f"\nWarehouse: {settings.warehouse_path}\nLanding files: {settings.landing_dir}")
    return 0


def _plan_export(args: argparse.Namespace, settings: Settings) -> int:
    from dagster_project.outputs.plan import FORMATS, LEVELS, export_plan
    from dagster_project.outputs.plan.marts import provinces
    from dagster_project.warehouse.publish import published_mart

    if not published_mart(settings.published_dir, "mart_credit_plan").exists():
        raise NotBuilt(f"No published credit plan under {settings.published_dir}: build and publish it with `pcw run`")
    try:
        province = resolve_province(args.province, provinces(settings.published_dir))
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"--province: {error}") from None
    levels = list(LEVELS) if args.level == "all" else [args.level]
    formats = list(FORMATS) if args.format == "all" else [args.format]
    out_dir = Path(args.out) if args.out else settings.data_dir / "exports"
    try:
        written = export_plan(settings.published_dir, province, levels, formats, out_dir, args.scenario)
    except (ValueError, FileNotFoundError, OSError) as error:
        print(f"Cannot export the plan: {error}. Has `pcw run` built and published the marts?", file=sys.stderr)
        return 1
    print("\n".join(str(path) for path in written))
    return 0


def _fingerprint(args: argparse.Namespace, settings: Settings) -> int:

    from dagster_project.outputs.fingerprint import table_fingerprints

    if not settings.warehouse_path.exists():
        raise NotBuilt(f"No warehouse at {settings.warehouse_path}: build it first with `pcw run`")
    with read_warehouse(settings.warehouse_path) as conn:
        for table, (rows, row_hash) in table_fingerprints(conn).items():
            print(f"{table:<48}{rows:>14,}  {row_hash:x}")
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    """`dagster dev`, stoppable however it was started. A process started in the background by a
    non-interactive shell (`make dev &`, a script, an IDE's runner) inherits SIGINT ignored, and
    `dagster dev` gives SIGTERM the handling SIGINT has: it would ignore both. Python installs its
    Ctrl-C handler only where SIGINT has its default action, which survives the exec."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(dagster, [str(dagster), "dev", *args.dagster_args])


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="pcw", description="Policy Credit Warehouse")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write sample landing files")
    generate.add_argument("--landing-dir", help="default: $PCW_LANDING_DIR or data/landing")
    from sample_data.cli import add_generate_arguments

    add_generate_arguments(generate)
    generate.set_defaults(handler=_generate)

    run = commands.add_parser("run", help="build the warehouse from the landing files (sample data if none)")
    run.add_argument("--regenerate", action="store_true", help="write the default sample even if landing files exist")
    run.add_argument(
        "--as-of",
        type=iso_date,
        help="date of the headline figures printed at the end (default: the published figures' 2024-06-30 "
        "if the data reaches it, else the last month-end)",
    )
    run.set_defaults(handler=_run)

    kpis = commands.add_parser("kpis", help="print the headline figures: marts, raw tables, published")
    kpis.add_argument(
        "--province", help="province code or name, with or without 'Tỉnh' and diacritics (default: every province)"
    )
    kpis.add_argument(
        "--as-of",
        type=iso_date,
        help="the last month-end on or before this date (default: 2024-06-30 if held, else the last)",
    )
    kpis.set_defaults(handler=_kpis)

    plan = commands.add_parser("plan", help="the 2026-2030 credit plan").add_subparsers(
        dest="plan_command", required=True
    )
    export = plan.add_parser("export", help="write the plan for planners (from the published marts)")
    export.add_argument(
        "--province", default="08", help="province code or name, with or without 'Tỉnh' and diacritics (default 08)"
    )
    export.add_argument(
        "--scenario",
        choices=["demand", "capital"],
        default="demand",
        help="demand: lending meets the capped demand; capital: lending limited by the capital expected "
        "(default demand)",
    )
    export.add_argument("--level", choices=["commune", "office", "province", "all"], default="all")
    export.add_argument(
        "--format",
        choices=["xlsx", "csv", "parquet", "png", "html", "all"],
        default="all",
        help="xlsx: the workbook to sign; csv: for people (VND millions); parquet: for machines (VND); "
        "png: charts; html: the report with its charts (default all)",
    )
    export.add_argument("--out", help="folder to write to (default: $PCW_DATA_DIR/exports)")
    export.set_defaults(handler=_plan_export)

    fingerprint = commands.add_parser(
        "fingerprint",
        help="rows and an order-free content hash of every raw and mart table (compare two runs with diff)",
    )
    fingerprint.set_defaults(handler=_fingerprint)

    marts = commands.add_parser(
        "marts", help="rebuild the marts only, on the dbt target PCW_DBT_TARGET (duckdb or spark)"
    )
    marts.set_defaults(handler=_marts)

    dev = commands.add_parser(
        "dev", help="the Dagster UI (dagster dev) on the same definitions; Ctrl-C or SIGTERM stops it"
    )
    dev.set_defaults(handler=_dev)  # its other options go to dagster dev (e.g. -p 3001)

    args, others = parser.parse_known_args(argv)
    if others and args.command != "dev":
        parser.error(f"unrecognized arguments: {' '.join(others)}")
    args.dagster_args = others
    if args.command in ("run", "marts"):  # the commands that load Dagster; the others stay free of its import
        from dagster_project.known_warnings import filter_known_warnings

        filter_known_warnings()
    try:
        settings = Settings.from_env()  # read once, here; handed to everything the command does
    except ValueError as error:
        parser.exit(2, f"pcw {args.command}: {error}\n")
    try:
        return args.handler(args, settings)
    except UsageError as error:
        parser.exit(2, f"pcw {args.command}: {error}\n")
    except (NotBuilt, WarehouseBusy) as error:
        print(f"pcw {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
