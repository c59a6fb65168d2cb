"""Jobs: what the data team runs. A monthly ledger partition loads apart from the registers, and
the dbt marts build once the loads have finished (sensors.py)."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from dagster_project.defs.loads import ledger_keys, register_assets
from dagster_project.defs.reference import admin_units_reference
from dagster_project.domain.months import LedgerMonth

# Every step of these jobs opens the warehouse, whose pool runs one step at a time: a process per
# step (the multiprocess executor, Dagster's default) would only add its start, an import of the
# definitions and, in every gate, of Great Expectations. So a run works its steps in its own
# process unless its run config asks for `multiprocess` (Dagster's executor, another default).
in_process_first = dg.multi_or_in_process_executor.copy_for_configured(
    name="multi_or_in_process_executor",
    description="Dagster's default executor, in process unless the run config says `multiprocess`.",
    config_schema=dg.Field(dg.multi_or_in_process_executor.config_schema.config_type, default_value={"in_process": {}}),
)

registers_job = dg.define_asset_job(
    "registers_job",
    selection=dg.AssetSelection.assets(admin_units_reference, *register_assets),
    description="Admin units and every register snapshot (borrowers, groups, loans, …) into raw.",
    executor_def=in_process_first,
)

# The ledger assets' partitions depend on the settings (build_definitions), so the job selects
# them by key and takes their partitions when the definitions resolve it.
ledger_job = dg.define_asset_job(
    "ledger_job",
    selection=dg.AssetSelection.assets(*ledger_keys),
    description="One month (or, as a backfill, a range of months in one run) of the ledgers into raw.",
    executor_def=in_process_first,
)

MARTS_JOB = "marts_job"


def build_marts_job(
    dbt_target: str,
    dbt_models: dg.AssetsDefinition,
    published_raw: dg.AssetsDefinition,
    published_marts: dg.AssetsDefinition,
) -> UnresolvedAssetJobDefinition:
    """On DuckDB dbt reads the raw tables in place; on Spark it reads them as published Parquet files."""
    return dg.define_asset_job(
        MARTS_JOB,
        selection=dg.AssetSelection.assets(dbt_models, published_marts)
        if dbt_target == "duckdb"
        else dg.AssetSelection.assets(published_raw, dbt_models),
        description=f"dbt build on {dbt_target} (PCW_DBT_TARGET): seeds, staging, intermediate and marts, with their "
        "tests as checks; on DuckDB then the published copies of the marts.",
        executor_def=in_process_first,
    )


def build_monthly_ledger_schedule(partitions: dg.PartitionsDefinition) -> dg.ScheduleDefinition:
    """Ledgers for a month arrive in the first days of the next: load last month on the 5th. (The
    partitions reach the current month, so the newest partition is not the one to load.)"""

    @dg.schedule(job=ledger_job, cron_schedule="0 6 5 * *", name="monthly_ledger_schedule")
    def monthly_ledger_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        last_month = LedgerMonth.of(context.scheduled_execution_time.date()) - 1
        if not partitions.has_partition_key(last_month.partition_key):
            return dg.SkipReason(f"{last_month} is before the first ledger partition")
        return dg.RunRequest(partition_key=last_month.partition_key)

    return monthly_ledger_schedule
