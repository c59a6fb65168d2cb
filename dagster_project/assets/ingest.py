"""Ingestion: landing files (external, dropped by branch systems) → DuckDB `raw`, one asset per source."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.contract import LANDING_SOURCES, LandingSource
from dagster_project.ingest.loader import load_source
from dagster_project.resources import LandingFolder
from dagster_project.settings import WAREHOUSE_POOL

landing_specs = [
    dg.AssetSpec(
        ["landing", source.name],
        description=f"Landing files `{source.folder}/<branch>/…` written by branch systems (docs/data-contract.md).",
        group_name="landing",
        kinds={"csv", "parquet"} if source.monthly else {"csv"},
    )
    for source in LANDING_SOURCES.values()
]


def build_raw_asset(source: LandingSource) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", source.name],
        deps=[["landing", source.name]],
        group_name="raw",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description=f"Landing `{source.name}` files typed into `raw.{source.name}`, bad rows quarantined.",
    )
    def raw_table(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, landing: LandingFolder
    ) -> dg.MaterializeResult:
        with warehouse.get_connection() as conn:
            loads = load_source(conn, source, landing.root)
        rows_read = sum(f.rows_read for f in loads)
        rows_loaded = sum(f.rows_loaded for f in loads)
        rows_quarantined = sum(f.rows_quarantined for f in loads)
        if rows_quarantined:
            context.log.warning(f"{rows_quarantined} rows of {source.name} quarantined: see raw.quarantine")
        totals = {
            f"total_{column}": sum(f.amount_totals.get(column, 0) for f in loads) for column in source.amount_columns
        }
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows_loaded,
                "files": len(loads),
                "rows_read": rows_read,
                "rows_quarantined": rows_quarantined,
                **totals,
            }
        )

    return raw_table


raw_assets = [build_raw_asset(source) for source in LANDING_SOURCES.values()]
