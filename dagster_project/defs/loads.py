"""Ingestion: landing files (external, dropped by branch systems) → DuckDB `raw`, one asset per source.

Registers (snapshots) are unpartitioned. Monthly ledgers are partitioned by month: a run loads
one month or, in a backfill, a range of months in one run, each month all or nothing.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.resources import LandingFolder
from dagster_project.domain.landing_contract import LANDING_SOURCES, LandingSource
from dagster_project.domain.months import LedgerMonth
from dagster_project.ingest.landing import NotLoaded, not_loaded, record_not_loaded, summary
from dagster_project.ingest.loader import load_months, load_register
from dagster_project.ingest.manifest import PartitionLoad
from dagster_project.ingest.rules import REFERENCES
from dagster_project.settings import DATA_TEAM, WAREHOUSE_POOL, Settings
from dagster_project.warehouse.build_plan import first_ledger_month, months_ahead


def ledger_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    """One partition a month from the first ledger month to the current month, which a branch may
    send before it ends; the end moves with the calendar, the start is fixed when the definitions load.
    A load date set ahead (PCW_LOAD_DATE, ingest/rules.py, e.g. for a sample generated past today)
    moves the end with it."""
    first = LedgerMonth.parse(first_ledger_month(settings))
    return dg.MonthlyPartitionsDefinition(start_date=first.partition_key, end_offset=1 + months_ahead())


# Row rules look rows up in their parents' tables (ingest/rules.py, REFERENCES), so those load first.
REFERENCED_TABLES = {name: list(dict.fromkeys(r.parent for r in REFERENCES.get(name, []))) for name in LANDING_SOURCES}
ADMIN_UNITS = [["raw", "admin_units_old"], ["raw", "admin_units_new"]]

# A locked file or a busy disk is worth a second try; a rejected file is not (dg.Failure).
LOAD_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)

landing_specs = [
    dg.AssetSpec(
        ["landing", source.name],
        description=f"Landing files `{source.folder}/<branch>/…` written by branch systems (docs/data-contract.md).",
        group_name="landing",
        owners=[DATA_TEAM],
        kinds={"csv", "parquet"} if source.monthly else {"csv"},
    )
    for source in LANDING_SOURCES.values()
]


def _month_key(partition_key: str) -> str:
    return LedgerMonth.from_partition_key(partition_key).key  # "2024-06-01" -> "2024-06", as in file names


def build_raw_asset(source: LandingSource, partitions: dg.PartitionsDefinition | None = None) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", source.name],
        deps=[["landing", source.name], *ADMIN_UNITS, *(["raw", t] for t in REFERENCED_TABLES[source.name])],
        group_name="raw",
        kinds={"duckdb"},
        owners=[DATA_TEAM],
        pool=WAREHOUSE_POOL,
        retry_policy=LOAD_RETRY,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
        description=f"Landing `{source.name}` files typed into `raw.{source.name}`, bad rows in `raw.quarantine`.",
    )
    def raw_table(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, landing: LandingFolder
    ) -> dg.MaterializeResult:
        with warehouse.get_connection() as conn:
            if source.monthly:
                # A backfill's months load as one batch (ingest/batch.py), each month all or nothing.
                loads = load_months(conn, source, landing.root, [_month_key(k) for k in context.partition_keys])
            else:
                loads = [load_register(conn, source, landing.root)]
            # The files of its folder that no load takes (and those outside every source folder):
            # recorded with their reason when first seen, so none vanishes without a trace.
            strays = not_loaded(landing.root, partitions, source)
            newly_recorded = record_not_loaded(conn, strays, landing.root)
            row_count = conn.execute(f"select count(*) from raw.{source.name}").fetchone()[0]
        if newly_recorded:
            context.log.warning(summary(newly_recorded, limit=20) + ": recorded in audit.load_manifest")
        return _report(context, source, loads, row_count, [f for f in strays if f.source_name == source.name])

    return raw_table


def _report(
    context: dg.AssetExecutionContext,
    source: LandingSource,
    loads: list[PartitionLoad],
    row_count: int,
    strays: list[NotLoaded] = (),
) -> dg.MaterializeResult:
    """The load's figures. An unchanged partition reports those of its last real load (the loader
    fills them in from audit.load_manifest), so a skipped re-load never shows zeros."""
    files = [f for load in loads for f in load.files]
    readmitted = _log_readmitted(context, source, loads)
    quarantined = sum(f.rows_quarantined for load in loads if not load.unchanged for f in load.files)
    if quarantined:
        context.log.warning(f"{quarantined} rows of {source.name} quarantined: see raw.quarantine")
    uncontrolled = [f.source_file for f in files if f.note and not f.rejection]
    if uncontrolled and any(not load.unchanged for load in loads):
        context.log.warning(
            f"{len(uncontrolled)} {source.name} file(s) loaded without a control file: "
            f"rows and sums not checked ({', '.join(uncontrolled[:5])}{' …' if len(uncontrolled) > 5 else ''})"
        )
    rejected = [f for f in files if f.rejection]
    if rejected:
        raise dg.Failure(
            description=f"{len(rejected)} {source.name} file(s) rejected, nothing loaded from them:\n"
            + "\n".join(f"{f.source_file}: {f.rejection}" for f in rejected),
            metadata={"rejected_files": [f.source_file for f in rejected]},
            allow_retries=False,
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": row_count,
            "partitions_loaded": sum(not load.unchanged for load in loads),
            "partitions_unchanged": sum(load.unchanged for load in loads),
            "files": len(files),
            "rows_read": sum(f.rows_read for f in files),
            "rows_loaded": sum(f.rows_loaded for f in files),
            "rows_quarantined": sum(f.rows_quarantined for f in files),
            "files_without_control": len(uncontrolled),
            "files_not_loaded": dg.MetadataValue.md(
                "\n".join(f"- `{f.source_file}` ({f.outcome}): {f.reason}" for f in strays) or "none"
            ),
            **({"dependants_reloaded": readmitted} if readmitted else {}),
            **{
                f"total_{column}": vnd(sum(f.amount_totals.get(column, 0) for f in files))
                for column in source.amount_columns
            },
        }
    )


def _log_readmitted(context: dg.AssetExecutionContext, source: LandingSource, loads: list[PartitionLoad]) -> str:
    """Say which files of other tables a register's load loaded again because their rows' parents
    changed (ingest/parents.py), e.g. `transactions 2024-02`; returns them as one line."""
    reloaded = [d for load in loads for d in load.dependants if not d.unchanged]
    for d in reloaded:
        figures = f"{d.total('rows_loaded')} rows loaded, {d.total('rows_quarantined')} quarantined"
        rejected = "; ".join(f"{f.source_file}: rejected: {f.rejection}" for f in d.rejected)
        message = (
            f"{d.source_name} {d.partition_key} loaded again from its landing files: rows naming a "
            f"{source.name} row as their parent are admitted by it as it now is ({figures})"
        )
        (context.log.warning if rejected else context.log.info)(message + (f"; {rejected}" if rejected else ""))
    return ", ".join(f"{d.source_name} {d.partition_key}" for d in reloaded)


def vnd(amount: int) -> dg.MetadataValue:
    """An amount as people read it, to the đồng: 4,354,612,000,000 VND."""
    return dg.MetadataValue.text(f"{amount:,} VND")


register_assets = [build_raw_asset(s) for s in LANDING_SOURCES.values() if not s.monthly]
ledger_keys = [dg.AssetKey(["raw", s.name]) for s in LANDING_SOURCES.values() if s.monthly]


def build_ledger_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [build_raw_asset(s, partitions) for s in LANDING_SOURCES.values() if s.monthly]
