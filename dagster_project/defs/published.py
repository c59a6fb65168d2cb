"""Published copies (publish.py): the raw tables as Parquet for other engines, and the marts for
planners, refreshed after every build whose gates pass."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.dbt_models import dbt_models
from dagster_project.warehouse.publish import publish_marts, publish_raw_tables, published_key, source_tables
from dagster_project.warehouse.recompute import record_marts_build
from dagster_project.settings import DATA_TEAM, PROJECT_ROOT, WAREHOUSE_POOL, Settings

PUBLISHED_TABLES = source_tables()


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
        for t in PUBLISHED_TABLES
    ],
    pool=WAREHOUSE_POOL,  # reads the DuckDB file
)
def published_raw(warehouse: DuckDBResource):
    published_dir = Settings.from_env().published_dir
    with warehouse.get_connection() as conn:
        written = publish_raw_tables(conn, published_dir, PUBLISHED_TABLES)
    for t in PUBLISHED_TABLES:
        yield dg.MaterializeResult(
            asset_key=published_key(t.schema, t.name),
            metadata={"dagster/row_count": written[f"{t.schema}.{t.name}"], "path": str(t.published_path(published_dir))},
        )


MART_KEYS = [key for key in dbt_models.keys if key.path[-1].startswith("mart_")]


@dg.asset(
    key=["published", "marts"],
    deps=MART_KEYS,
    group_name="published",
    kinds={"parquet"},
    owners=[DATA_TEAM],
    pool=WAREHOUSE_POOL,  # reads the DuckDB file
    description="Every mart as Parquet under <published dir>/marts/, swapped in whole after each build.",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    published_dir = Settings.from_env().published_dir
    with warehouse.get_connection() as conn:
        rows = publish_marts(conn, published_dir)
        record_marts_build(conn, PROJECT_ROOT)
    context.log.info(f"Published {len(rows)} marts to {published_dir / 'marts'}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(rows.values()),
            "marts": len(rows),
            "rows_by_mart": dg.MetadataValue.json(rows),
            "path": dg.MetadataValue.path(published_dir / "marts"),
        }
    )
