"""Great Expectations suites as blocking Dagster asset checks: a failing suite stops the
assets downstream and says which rule failed, on how many rows, with examples."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.checks.expectations import suite_path, validate_table
from dagster_project.settings import WAREHOUSE_POOL


def build_quality_gate(schema: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name="great_expectations",
        description=f"Great Expectations suite expectations/{schema}/{table}.json",
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def quality_gate(warehouse: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            outcomes = validate_table(conn, schema, table)
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


def quality_gates(asset_keys: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """A gate for every asset whose table has a suite in `expectations/`."""
    return [
        build_quality_gate(*key.path)
        for key in asset_keys
        if len(key.path) == 2 and suite_path(*key.path).exists()
    ]
