"""Build the whole warehouse in-process, the way the sensors chain it in production:
registers, then the ledger months in one backfill run, then the dbt marts; only what changed since
the last build (a build with nothing new does nothing)."""

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
from dagster_project.ingest.loader import changed_partitions, landing_months
from dagster_project.progress import BuildProgress
from dagster_project.recompute import marts_up_to_date
from dagster_project.settings import PROJECT_ROOT, Settings, read_warehouse


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
                    lines.append(f"{job} / {event.step_key}: {event.event_specific_data.error.message.strip()}")
                elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                    evaluation = event.event_specific_data
                    if not evaluation.passed:
                        month = f" ({evaluation.partition[:7]})" if evaluation.partition else ""  # a ledger gate's month
                        lines.append(
                            f"{job} / check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}{month}: "
                            f"{evaluation.description or ''}"
                        )
        return lines


@dataclass(frozen=True)
class BuildPlan:
    """What a build has to do: the registers and ledger months whose landing files differ from
    their last load, and whether the published marts lag the loads or the code."""

    registers: list[str]
    ledger_months: list[str]  # YYYY-MM
    marts_stale: bool

    @property
    def nothing_to_do(self) -> bool:
        return not (self.registers or self.ledger_months or self.marts_stale)


def plan_build(settings: Settings, everything: bool = False, partitions: dg.PartitionsDefinition | None = None) -> BuildPlan:
    """What changed since the last build; `everything` plans every load and the marts (the loads
    still skip partitions whose files they already hold). Ledger files of a month that is not a
    partition (before the first, after this month) wait."""
    registers = [s.name for s in LANDING_SOURCES.values() if not s.monthly]

    def ledger_months(months) -> list[str]:
        return sorted(m for m in set(months) if partitions is None or partitions.has_partition_key(f"{m}-01"))

    every_month = ledger_months(m for s in LANDING_SOURCES.values() if s.monthly for m in landing_months(settings.landing_dir, s))
    if everything or not settings.warehouse_path.exists():
        return BuildPlan(registers, every_month, True)
    with read_warehouse(settings.warehouse_path) as conn:
        if not {"admin_units_old", "admin_units_new"} <= {t for (t,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()}:
            return BuildPlan(registers, every_month, True)
        changed = {s.name: changed_partitions(conn, s, settings.landing_dir) for s in LANDING_SOURCES.values()}
        return BuildPlan(
            registers=[name for name in registers if changed[name]],
            ledger_months=ledger_months(m for s in LANDING_SOURCES.values() if s.monthly for m in changed[s.name]),
            marts_stale=not marts_up_to_date(conn, PROJECT_ROOT),
        )


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
    defs: dg.Definitions, settings: Settings, instance: dg.DagsterInstance, result: BuildResult, log_level: str,
    progress: BuildProgress | None,
):
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
    _job_runner(build_definitions(settings), settings, instance, result, log_level, progress)("marts_job")
    return result


def build_warehouse(
    settings: Settings,
    instance: dg.DagsterInstance,
    log_level: str = "WARNING",
    everything: bool = False,
    progress: BuildProgress | None = None,
) -> BuildResult:
    """Load what changed since the last build, then rebuild the marts if anything did (or they lag)."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    defs = build_definitions(settings)
    partitions = defs.resolve_job_def("ledger_job").partitions_def
    plan = plan_build(settings, everything, partitions)
    result = BuildResult(plan=plan)
    if plan.nothing_to_do:
        return result
    run = _job_runner(defs, settings, instance, result, log_level, progress)

    if plan.registers and not run("registers_job"):
        return result
    months = plan.ledger_months
    if months and not run(
        "ledger_job",
        {ASSET_PARTITION_RANGE_START_TAG: f"{months[0]}-01", ASSET_PARTITION_RANGE_END_TAG: f"{months[-1]}-01"},
        (months[0], months[-1]),
    ):
        return result
    run("marts_job")
    return result
