"""Build the whole warehouse in-process, the way the sensors chain it in production:
registers, then every ledger month present in one backfill run, then the dbt marts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.contract import LANDING_SOURCES
from dagster_project.definitions import build_definitions
from dagster_project.ingest.loader import landing_months
from dagster_project.progress import BuildProgress
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


def ledger_partition_range(settings: Settings) -> tuple[str, str] | None:
    months = sorted({m for s in LANDING_SOURCES.values() if s.monthly for m in landing_months(settings.landing_dir, s)})
    return (f"{months[0]}-01", f"{months[-1]}-01") if months else None


def dbt_log_path(settings: Settings) -> Path:
    """Where a build writes dbt's own log (what dbt prints), instead of the terminal."""
    return settings.data_dir / "logs" / "dbt.log"


@contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    # dagster-dbt echoes every dbt line to stdout; the step's progress is read from events instead
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as log, redirect_stdout(log):
        yield


def _job_runner(
    settings: Settings, instance: dg.DagsterInstance, result: BuildResult, log_level: str, progress: BuildProgress | None
):
    defs = build_definitions(settings)
    if progress:
        progress.dbt_log = dbt_log_path(settings)

    def run(job_name: str, tags: dict | None = None, months: tuple[str, str] | None = None) -> bool:
        job = defs.resolve_job_def(job_name)
        run_id = str(uuid.uuid4())
        if progress:
            instance.add_event_listener(run_id, progress.on_event)
            progress.start(job_name, months)
        with _stdout_to(dbt_log_path(settings)) if job_name == "marts_job" else nullcontext():
            result.runs[job_name] = job.execute_in_process(
                instance=instance, tags=tags, raise_on_error=False, run_id=run_id,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            )
        if progress:
            progress.finish(result.runs[job_name].success)
        return result.runs[job_name].success

    return run


def build_marts(
    settings: Settings, instance: dg.DagsterInstance, log_level: str = "WARNING", progress: BuildProgress | None = None
) -> BuildResult:
    """Only the marts job, on the dbt target PCW_DBT_TARGET names, from the raw tables already loaded."""
    result = BuildResult()
    _job_runner(settings, instance, result, log_level, progress)("marts_job")
    return result


def build_warehouse(
    settings: Settings, instance: dg.DagsterInstance, log_level: str = "WARNING", progress: BuildProgress | None = None
) -> BuildResult:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    run = _job_runner(settings, instance, result, log_level, progress)

    if not run("registers_job"):
        return result
    months = ledger_partition_range(settings)
    if months and not run(
        "ledger_job", {ASSET_PARTITION_RANGE_START_TAG: months[0], ASSET_PARTITION_RANGE_END_TAG: months[1]}, months
    ):
        return result
    run("marts_job")
    return result
