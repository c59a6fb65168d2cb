"""Build the whole warehouse, the way the sensors chain it in production: registers, then the
ledger months in one backfill run, then the dbt marts; only what changed since the last build (a
build with nothing new does nothing). Each run is recorded for the code location the UI shows and
worked by this process (runs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.cli.progress import BuildProgress
from dagster_project.cli.runs import create_run, execute
from dagster_project.definitions import build_definitions
from dagster_project.domain.months import LedgerMonth
from dagster_project.settings import Settings
from dagster_project.warehouse.build_plan import BuildPlan, plan_build


@dataclass
class BuildResult:
    runs: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)
    plan: BuildPlan | None = None

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs.values())

    def failures(self) -> list[str]:
        """What failed, readably: failed steps and failed blocking checks."""
        lines = []
        for job, result in self.runs.items():
            for event in result.all_events:
                if event.is_step_failure:
                    error = event.event_specific_data.error
                    # a Failure raised on purpose says all there is to say; its class path adds nothing
                    message = error.message.strip().removeprefix("dagster._core.definitions.events.Failure: ")
                    lines.append(f"{job} / {event.step_key}: {message}")
                elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                    evaluation = event.event_specific_data
                    if not evaluation.passed:
                        # a ledger gate's month
                        month = (
                            f" ({LedgerMonth.from_partition_key(evaluation.partition)})" if evaluation.partition else ""
                        )
                        lines.append(
                            f"{job} / check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}{month}: "
                            f"{evaluation.description or ''}"
                        )
        return lines


def dbt_log_path(settings: Settings) -> Path:
    """Where a build writes dbt's own log (what dbt prints), instead of the terminal."""
    return settings.data_dir / "logs" / "dbt.log"


@contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    # dagster-dbt echoes every dbt line to stdout; the step's progress is read from events instead
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as log, redirect_stdout(log):
        yield


# log_level is Dagster's console log, quiet by default: pcw says what happens itself (progress.py,
# BuildResult.failures), and each run's whole log is in the instance, where the UI shows it.
def _job_runner(
    defs: dg.Definitions,
    settings: Settings,
    instance: dg.DagsterInstance,
    result: BuildResult,
    log_level: str,
    progress: BuildProgress | None,
):
    if progress:
        progress.dbt_log = dbt_log_path(settings)

    def run(job_name: str, tags: dict | None = None, months: tuple[str, str] | None = None) -> bool:
        job = defs.resolve_job_def(job_name)
        dagster_run = create_run(
            instance, job, tags or {}, {"loggers": {"console": {"config": {"log_level": log_level}}}}
        )
        if progress:
            progress.start(job_name, months)
        with _stdout_to(dbt_log_path(settings)) if job_name == "marts_job" else nullcontext():
            result.runs[job_name] = execute(instance, job, dagster_run, progress.on_event if progress else None)
        if progress:
            progress.finish(result.runs[job_name].success)
        return result.runs[job_name].success

    return run


def build_marts(
    settings: Settings, instance: dg.DagsterInstance, log_level: str = "CRITICAL", progress: BuildProgress | None = None
) -> BuildResult:
    """Only the marts job, on the settings' dbt target, from the raw tables already loaded."""
    result = BuildResult()
    _job_runner(build_definitions(settings), settings, instance, result, log_level, progress)("marts_job")
    return result


def build_warehouse(
    settings: Settings,
    instance: dg.DagsterInstance,
    log_level: str = "CRITICAL",
    everything: bool = False,
    progress: BuildProgress | None = None,
    plan: BuildPlan | None = None,
) -> BuildResult:
    """Load what changed since the last build (or what `plan`, made just before, says), then rebuild
    the marts if anything did (or they lag)."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan or plan_build(settings, everything)
    result = BuildResult(plan=plan)
    if plan.nothing_to_do:
        return result
    defs = build_definitions(settings)
    run = _job_runner(defs, settings, instance, result, log_level, progress)

    if plan.registers and not run("registers_job"):
        return result
    months = plan.ledger_months
    if months and not run(
        "ledger_job",
        {
            ASSET_PARTITION_RANGE_START_TAG: LedgerMonth.parse(months[0]).partition_key,
            ASSET_PARTITION_RANGE_END_TAG: LedgerMonth.parse(months[-1]).partition_key,
        },
        (months[0], months[-1]),
    ):
        return result
    run("marts_job")
    return result
