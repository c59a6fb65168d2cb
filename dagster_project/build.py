"""Build the whole warehouse in-process, the way the sensors chain it in production:
registers, then every ledger month present in one backfill run, then the dbt marts."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.contract import LANDING_SOURCES
from dagster_project.definitions import build_definitions
from dagster_project.ingest.loader import landing_months
from dagster_project.settings import Settings


@dataclass
class BuildResult:
    runs: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs.values())

    def failures(self) -> list[str]:
        """What failed, readably: failed steps and failed blocking checks."""
        lines = []
        for job, result in self.runs.items():
            for event in result.all_events:
                if event.is_step_failure:
                    lines.append(f"{job} / {event.step_key}: {event.event_specific_data.error.message.strip()}")
                elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                    evaluation = event.event_specific_data
                    if not evaluation.passed:
                        lines.append(
                            f"{job} / check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}: "
                            f"{evaluation.description or ''}"
                        )
        return lines


def ledger_partition_range(settings: Settings, partitions: dg.PartitionsDefinition) -> tuple[str, str] | None:
    """The first and last partitions with ledger files (files of months outside the partitions wait)."""
    keys = sorted(
        key
        for s in LANDING_SOURCES.values()
        if s.monthly
        for m in landing_months(settings.landing_dir, s)
        if partitions.has_partition_key(key := f"{m}-01")
    )
    return (keys[0], keys[-1]) if keys else None


def _job_runner(defs: dg.Definitions, instance: dg.DagsterInstance, result: BuildResult, log_level: str):
    def run(job_name: str, tags: dict | None = None) -> bool:
        job = defs.resolve_job_def(job_name)
        result.runs[job_name] = job.execute_in_process(
            instance=instance, tags=tags, raise_on_error=False, run_config={"loggers": {"console": {"config": {"log_level": log_level}}}}
        )
        return result.runs[job_name].success

    return run


def build_marts(settings: Settings, instance: dg.DagsterInstance, log_level: str = "WARNING") -> BuildResult:
    """Only the marts job, on the dbt target PCW_DBT_TARGET names, from the raw tables already loaded."""
    result = BuildResult()
    _job_runner(build_definitions(settings), instance, result, log_level)("marts_job")
    return result


def build_warehouse(settings: Settings, instance: dg.DagsterInstance, log_level: str = "WARNING") -> BuildResult:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    defs = build_definitions(settings)
    run = _job_runner(defs, instance, result, log_level)

    if not run("registers_job"):
        return result
    months = ledger_partition_range(settings, defs.resolve_job_def("ledger_job").partitions_def)
    if months and not run(
        "ledger_job", {ASSET_PARTITION_RANGE_START_TAG: months[0], ASSET_PARTITION_RANGE_END_TAG: months[1]}
    ):
        return result
    run("marts_job")
    return result
