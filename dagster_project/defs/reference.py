"""Administrative units before and after the 2025 reorganisation, loaded from vietnamadminunits."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.ingest import admin_units
from dagster_project.settings import DATA_TEAM, WAREHOUSE_POOL

ADMIN_TABLES = {
    "admin_units_old": (admin_units.old_communes, "Communes of the 63-province scheme in force until 30 June 2025."),
    "admin_units_new": (admin_units.new_communes, "Communes of the 34-province scheme in force from 1 July 2025."),
    "admin_unit_crosswalk": (
        admin_units.commune_crosswalk,
        "Old commune → new commune(s); split communes flagged, with their default successor.",
    ),
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", name], description=description, group_name="reference", kinds={"duckdb"}, owners=[DATA_TEAM]
        )
        for name, (_, description) in ADMIN_TABLES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def admin_units_reference(warehouse: DuckDBResource):
    frames = {name: build() for name, (build, _) in ADMIN_TABLES.items()}
    with warehouse.get_connection() as conn:
        conn.execute("create schema if not exists raw")
        conn.execute("begin transaction")
        for name, frame in frames.items():
            conn.register("admin_frame", frame)
            conn.execute(f"create or replace table raw.{name} as select * from admin_frame")
            conn.unregister("admin_frame")
        conn.execute("commit")
    for name, frame in frames.items():
        yield dg.MaterializeResult(asset_key=["raw", name], metadata={"dagster/row_count": len(frame)})
