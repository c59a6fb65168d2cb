"""Great Expectations suites as blocking Dagster asset checks: a failing suite stops the
assets downstream and says which rule failed, on how many rows, with examples.

Suites in `expectations/raw/` guard the loaded tables (per partition for the ledgers); suites in
`expectations/marts/` guard tables dbt builds in the warehouse's `main` schema.
Which rules a suite holds, and which it leaves to the load and to dbt: docs/quality.md.

A ledger gate validates the months of its run together (a backfill loads a range of months in one
run) and gives a verdict for each month, so that the UI shows every month passed or failed.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData
from dagster_dbt.metadata_set import DbtMetadataSet
from dagster_duckdb import DuckDBResource

from dagster_project.domain.months import LedgerMonth
from dagster_project.quality.expectations import (
    RuleOutcome,
    record_outcomes,
    suite_path,
    validate_table,
)
from dagster_project.settings import WAREHOUSE_POOL
from dagster_project.warehouse.recompute import last_window

DBT_SCHEMA = "main"  # where dbt-duckdb builds the models (dbt/profiles.yml sets no other schema)
GATE = "great_expectations"
GateEvent = dg.AssetCheckResult | dg.AssetCheckEvaluation | dg.Output  # what a gate yields


def build_quality_gate(
    asset_key: dg.AssetKey,
    suite_folder: str,
    schema: str,
    table: str,
    partitions_def: dg.PartitionsDefinition | None = None,
    incremental: bool = False,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=GATE,
        description=f"Great Expectations suite expectations/{suite_folder}/{table}.json",
        blocking=True,
        pool=WAREHOUSE_POOL,
        partitions_def=partitions_def,
    )
    def quality_gate(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> Iterator[GateEvent]:
        # A partitioned table is validated on the months of this run only, an incremental model's
        # rows on the month-ends the last build recomputed.
        months = [LedgerMonth.from_partition_key(k).key for k in context.partition_keys] if partitions_def else None
        partition = (f"{months[0]}..{months[-1]}" if len(months) > 1 else months[0]) if months else None
        with warehouse.get_connection() as conn:
            window = last_window(conn) if incremental else None
            as_of_from = window.from_month_end if window else None
            partition = partition or (f"{as_of_from}.." if as_of_from else None)
            with verdict_required(f"{schema}.{table}"):
                outcomes = validate_table(conn, schema, table, months, suite_folder, as_of_from)
            record_outcomes(conn, f"{schema}.{table}", outcomes, context.run.run_id, partition)
        if not partitions_def:
            yield dg.AssetCheckResult(severity=dg.AssetCheckSeverity.ERROR, **verdict(outcomes))
            return
        # Dagster gives a check's result the run's partition, and none to a run over a range of
        # months: each month would stay planned and show as skipped. So one verdict a month.
        for key in context.partition_keys:
            yield dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=GATE,
                severity=dg.AssetCheckSeverity.ERROR,
                blocking=True,
                partition=key,
                target_materialization_data=latest_materialization(context.instance, asset_key, key),
                **verdict(
                    [o.in_month(LedgerMonth.from_partition_key(key).key) for o in outcomes],
                    validated_together=partition,
                ),
            )
        yield dg.Output(None)  # the check's own output: what the assets downstream wait on

    return quality_gate


def verdict(outcomes: list[RuleOutcome], validated_together: str | None = None) -> dict:
    """Passed or not, the failed rules with their rows, and every rule's outcome as metadata."""
    failed = [o for o in outcomes if not o.success]
    return {
        "passed": not failed,
        "description": "; ".join(o.describe() for o in failed) or f"{len(outcomes)} rules passed",
        "metadata": {
            "rules": len(outcomes),
            "rules_failed": len(failed),
            **({"months_validated_together": validated_together} if validated_together else {}),
            **{o.rule: o.describe() for o in outcomes},
        },
    }


def latest_materialization(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's materialization a verdict is about: the UI shows a month's verdict only while
    no newer load of that month replaces it."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    return (
        AssetCheckEvaluationTargetMaterializationData(
            storage_id=records[0].storage_id, run_id=records[0].run_id, timestamp=records[0].timestamp
        )
        if records
        else None
    )


@contextmanager
def verdict_required(guarded_table: str) -> Iterator[None]:
    """A gate that stops without a verdict (a library calling sys.exit, say, which a process can
    report as nothing worse than exit status 0) fails as loudly as a failed rule: it must block,
    never pass. A run being stopped stays a stop."""
    try:
        yield
    except (Exception, KeyboardInterrupt, dg.DagsterExecutionInterruptedError):
        raise
    except BaseException as died:
        raise dg.Failure(
            description=f"Great Expectations stopped without a verdict on {guarded_table}: {died!r}. "
            "The gate fails: the table is unchecked.",
            allow_retries=False,
        ) from died


def quality_gates(assets_defs: list[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """A gate for every loaded table with a suite in `expectations/raw/`, and every dbt model with
    one in `expectations/marts/`."""
    gates = []
    for assets_def in assets_defs:
        for key in assets_def.keys:
            if len(key.path) == 2 and suite_path(key.path[0], key.path[1]).exists():
                gates.append(build_quality_gate(key, key.path[0], *key.path, assets_def.partitions_def))
            elif len(key.path) == 1 and suite_path("marts", key.path[0]).exists():
                materialized = DbtMetadataSet.extract(assets_def.specs_by_key[key].metadata).materialization_type
                gates.append(
                    build_quality_gate(key, "marts", DBT_SCHEMA, key.path[0], incremental=materialized == "incremental")
                )
    return gates
