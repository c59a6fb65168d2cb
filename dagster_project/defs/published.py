"""Published copies (publish.py): the raw tables as Parquet for other engines, and the marts for
planners, refreshed after every build whose gates pass."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.resources import PublishedFolder
from dagster_project.settings import DATA_TEAM, PROJECT_ROOT, WAREHOUSE_POOL
from dagster_project.warehouse.publish import publish_marts, publish_raw_tables, published_key, source_tables
from dagster_project.warehouse.recompute import record_marts_build


def build_published_raw() -> dg.AssetsDefinition:
    """Every table dbt reads as a source (dbt's sources YAML), as Parquet."""
    tables = source_tables()

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                published_key(t.schema, t.name),
                deps=[[t.schema, t.name]],
                description=f"`{t.schema}.{t.name}` as `<published dir>/{t.schema}/{t.name}.parquet`.",
                group_name="published",
                kinds={"parquet"},
                owners=[DATA_TEAM],
            )
            for t in tables
        ],
        pool=WAREHOUSE_POOL,  # reads the DuckDB file
    )
    def published_raw(warehouse: DuckDBResource, published: PublishedFolder):
        with warehouse.get_connection() as conn:
            written = publish_raw_tables(conn, published.root, tables)
        for t in tables:
            yield dg.MaterializeResult(
                asset_key=published_key(t.schema, t.name),
                metadata={
                    "dagster/row_count": written[f"{t.schema}.{t.name}"],
                    "path": str(t.published_path(published.root)),
                },
            )

    return published_raw


def build_published_marts(dbt_models: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """Every mart of `dbt_models`, as Parquet."""

    @dg.asset(
        key=["published", "marts"],
        deps=[key for key in dbt_models.keys if key.path[-1].startswith("mart_")],
        group_name="published",
        kinds={"parquet"},
        owners=[DATA_TEAM],
        pool=WAREHOUSE_POOL,  # reads the DuckDB file
        description="Every mart as Parquet under <published dir>/marts/, swapped in whole after each build.",
    )
    def published_marts(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, published: PublishedFolder
    ) -> dg.MaterializeResult:
        with warehouse.get_connection() as conn:
            rows = publish_marts(conn, published.root)
            record_marts_build(conn, PROJECT_ROOT)
        context.log.info(f"Published {len(rows)} marts to {published.root / 'marts'}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(rows.values()),
                "marts": len(rows),
                "rows_by_mart": dg.MetadataValue.json(rows),
                "path": dg.MetadataValue.path(published.root / "marts"),
            }
        )

    return published_marts
