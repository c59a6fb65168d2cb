"""Great Expectations suites as blocking Dagster asset checks: a failing suite stops the
assets downstream and says which rule failed, on how many rows, with examples."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.checks.expectations import suite_path, validate_table
from dagster_project.settings import WAREHOUSE_POOL


def build_quality_gate(
    schema: str, table: str, partitions_def: dg.PartitionsDefinition | None = None
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name="great_expectations",
        description=f"Great Expectations suite expectations/{schema}/{table}.json",
        blocking=True,
        pool=WAREHOUSE_POOL,
        partitions_def=partitions_def,
    )
    def quality_gate(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
        # A partitioned table is validated on the months of this run only.
        months = [k[:7] for k in context.partition_keys] if partitions_def else None
        with warehouse.get_connection() as conn:
            outcomes = validate_table(conn, schema, table, months)
        failed = [o for o in outcomes if not o.success]
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(o.describe() for o in failed) or f"{len(outcomes)} rules passed",
            metadata={
                "rules": len(outcomes),
                "rules_failed": len(failed),
                **{o.rule: o.describe() for o in outcomes},
            },
        )

    return quality_gate


def quality_gates(assets_defs: list[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """A gate for every asset whose table has a suite in `expectations/`."""
    return [
        build_quality_gate(*key.path, assets_def.partitions_def)
        for assets_def in assets_defs
        for key in assets_def.keys
        if len(key.path) == 2 and suite_path(*key.path).exists()
    ]
