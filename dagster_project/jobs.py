"""Jobs: what the data team runs. A monthly ledger partition loads apart from the registers, and
the dbt marts build after either succeeds (sensors.py)."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.dbt import dbt_models
from dagster_project.assets.ingest import ledger_assets, register_assets
from dagster_project.assets.publish import published_marts, published_raw
from dagster_project.assets.reference import admin_units_reference
from dagster_project.settings import dbt_target

registers_job = dg.define_asset_job(
    "registers_job",
    selection=dg.AssetSelection.assets(admin_units_reference, *register_assets),
    description="Admin units and every register snapshot (borrowers, groups, loans, …) into raw.",
)

ledger_job = dg.define_asset_job(
    "ledger_job",
    selection=dg.AssetSelection.assets(*ledger_assets),  # partitioned by month, as its assets are
    description="One month (or, as a backfill, a range of months in one run) of the ledgers into raw.",
)

# On DuckDB dbt reads the raw tables in place; on Spark it reads them as published Parquet files.
marts_job = dg.define_asset_job(
    "marts_job",
    selection=dg.AssetSelection.assets(dbt_models, published_marts)
    if dbt_target() == "duckdb"
    else dg.AssetSelection.assets(published_raw, dbt_models),
    description="dbt build (target from PCW_DBT_TARGET): seeds, staging, intermediate and marts, with their tests "
    "as checks; on DuckDB then the published copies of the marts.",
)

# Ledgers for a month arrive in the first days of the next; load the newest month on the 5th.
monthly_ledger_schedule = dg.build_schedule_from_partitioned_job(
    ledger_job, day_of_month=5, hour_of_day=6, name="monthly_ledger_schedule"
)
