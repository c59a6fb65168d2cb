"""The published copies planners read (publish.py), refreshed after every build whose gates pass."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.assets.dbt import dbt_models
from dagster_project.publish import publish_marts
from dagster_project.settings import WAREHOUSE_POOL, Settings

MART_KEYS = [key for key in dbt_models.keys if key.path[-1].startswith("mart_")]


@dg.asset(
    key=["published", "marts"],
    deps=MART_KEYS,
    group_name="published",
    kinds={"parquet"},
    pool=WAREHOUSE_POOL,  # reads the DuckDB file
    description="Every mart as Parquet under <published dir>/marts/, swapped in whole after each build.",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    published_dir = Settings.from_env().published_dir
    with warehouse.get_connection() as conn:
        rows = publish_marts(conn, published_dir)
    context.log.info(f"Published {len(rows)} marts to {published_dir / 'marts'}")
    return dg.MaterializeResult(metadata={"marts": len(rows), "rows": sum(rows.values()), "path": str(published_dir / "marts")})
