"""Sensors: new landing files start loads, a batch of successful loads rebuilds the marts once,
failures raise an alert."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.defs.jobs import MARTS_JOB, ledger_job, registers_job
from dagster_project.defs.resources import AlertLog, LandingFolder
from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.domain.months import LedgerMonth
from dagster_project.ingest.control import control_path
from dagster_project.ingest.landing import (
    LandingName,
    file_month,
    landing_paths,
    month_after_load,
    not_loaded,
    read_name,
    summary,
)

LOAD_JOBS = (registers_job.name, ledger_job.name)


def _landing_state(landing_dir: Path) -> dict[str, str]:
    """Every data file the contract knows by its name, with its size and modification time and its
    control file's (one arriving after its data file is a change): what the cursor remembers."""
    state = {}
    for relative, path in landing_paths(landing_dir):
        if isinstance(read_name(relative), LandingName):
            state[relative] = "+".join(
                f"{stat.st_size}:{stat.st_mtime_ns}"
                for stat in (p.stat() for p in (path, control_path(path)) if p.exists())
            )
    return state


def _is_ledger(relative: str) -> bool:
    return LANDING_SOURCES[relative.split("/", 1)[0]].monthly


def loadable_files(state: dict[str, str], partitions: dg.PartitionsDefinition) -> dict[str, str]:
    """The files a run can load now: every register file, and the ledger files whose month is a
    partition and not after the load month. Any other ledger file waits: it stays out of the
    cursor, so it is seen again once the partitions hold its month (next month, or when the
    definitions reload)."""
    return {
        f: version
        for f, version in state.items()
        if not _is_ledger(f)
        or (
            (month := file_month(f))
            and partitions.has_partition_key(LedgerMonth.parse(month).partition_key)
            and not month_after_load(month)
        )
    }


def _run_key(prefix: str, files: list[str], current: dict[str, str]) -> str:
    # The files and their versions, hashed: a fresh folder holds thousands of files.
    digest = hashlib.sha256("|".join(f"{f}@{current[f]}" for f in files).encode()).hexdigest()[:20]
    return f"{prefix}|{digest}"


def _files_tag(files: list[str]) -> str:
    listed = ", ".join(files)
    return listed if len(listed) <= 1000 else f"{len(files)} files: {listed[:960]} …"


def landing_run_requests(previous: dict[str, str], current: dict[str, str]) -> list[dg.RunRequest]:
    """For the files new or changed since `previous`: one registers run, and one ledger run over the
    range of partitions from the first changed month to the last (a single-run backfill, like
    build.py's; months in between whose files did not change are skipped by the loader). The run
    key names the files and versions, so the same change never starts two runs."""
    changed = sorted(f for f, version in current.items() if previous.get(f) != version)
    registers = [f for f in changed if not _is_ledger(f)]
    ledgers = [f for f in changed if _is_ledger(f)]
    requests = []
    if registers:
        requests.append(
            dg.RunRequest(
                job_name=registers_job.name,
                run_key=_run_key("registers", registers, current),
                tags={"landing_files": _files_tag(registers)},
            )
        )
    if ledgers:
        months = sorted({file_month(f) for f in ledgers})
        first, last = (LedgerMonth.parse(m).partition_key for m in (months[0], months[-1]))
        requests.append(
            dg.RunRequest(
                job_name=ledger_job.name,
                run_key=_run_key(f"ledger|{months[0]}..{months[-1]}", ledgers, current),
                tags={
                    ASSET_PARTITION_RANGE_START_TAG: first,
                    ASSET_PARTITION_RANGE_END_TAG: last,
                    "landing_files": _files_tag(ledgers),
                },
            )
        )
    return requests


def build_landing_folder_sensor(partitions: dg.PartitionsDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_folder_sensor",
        jobs=[registers_job, ledger_job],
        minimum_interval_seconds=60,
        description="Watches the landing folder; each evaluation that finds new or changed files starts at "
        "most one registers run and one ledger run over the changed months. marts_after_loads rebuilds "
        "the marts once both have finished.",
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: LandingFolder) -> dg.SensorResult:
        """One ledger run over a range of months, not one a month, so that a fresh folder is one
        backfill; the marts wait for the batch in marts_after_loads, not here: a sensor cannot
        start a run after another, and the loads' outcome is only known from the run history."""
        previous = json.loads(context.cursor) if context.cursor else {}
        current = _landing_state(landing.root)
        loadable = loadable_files(current, partitions)
        # Files no run would load (names the contract does not know, months after the load month
        # or outside the partitions): the loads record them in audit.load_manifest, the sensor says so.
        strays = not_loaded(landing.root, partitions)
        if strays:
            context.log.warning(summary(strays, limit=20))
        # A ledger row is checked against the registers (its loan, group, point): while a register
        # changes or loads, the ledger files wait in the cursor for a later evaluation.
        registers_changed = any(not _is_ledger(f) and previous.get(f) != v for f, v in loadable.items())
        registers_loading = bool(
            context.instance.get_run_records(
                dg.RunsFilter(job_name=registers_job.name, statuses=list(NOT_FINISHED_STATUSES)), limit=1
            )
        )
        if registers_changed or registers_loading:
            loadable = {f: (previous.get(f) if _is_ledger(f) else v) for f, v in loadable.items()}
            loadable = {f: v for f, v in loadable.items() if v is not None}
        requests = landing_run_requests(previous, loadable)
        skip = (
            None if requests else "no new or changed landing file to load" + (f"; {summary(strays)}" if strays else "")
        )
        return dg.SensorResult(run_requests=requests, skip_reason=skip, cursor=json.dumps(loadable, sort_keys=True))

    return landing_folder_sensor


def marts_run_request(loads: list[dg.RunRecord], last_marts: dg.RunRecord | None) -> dg.RunRequest | dg.SkipReason:
    """What to do, given the load runs not finished or finished since the last marts build started,
    and that build. A marts build covers the loads that finished before it started (or before it was
    created, when it never started: a cancelled build is not retried); every successful load after
    that asks for one more, once no load is running. The run key names the newest of those loads,
    so one batch of loads gets one build however often this is evaluated."""
    if last_marts and last_marts.dagster_run.status in NOT_FINISHED_STATUSES:
        return dg.SkipReason(f"marts build {last_marts.dagster_run.run_id} has not finished")
    running = [r for r in loads if r.dagster_run.status in NOT_FINISHED_STATUSES]
    if running:
        return dg.SkipReason(f"waiting for {len(running)} load run(s) to finish")
    covered_until = (last_marts.start_time or last_marts.create_timestamp.timestamp()) if last_marts else 0.0
    loaded = sorted(
        (r for r in loads if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS and (r.end_time or 0) > covered_until),
        key=lambda r: r.end_time,
    )
    if not loaded:
        return dg.SkipReason("no successful load since the last marts build")
    return dg.RunRequest(
        run_key=f"after-{loaded[-1].dagster_run.run_id}",
        tags={"after_loads": ", ".join(r.dagster_run.run_id for r in loaded)[:1000]},
    )


@dg.sensor(
    job_name=MARTS_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the dbt marts once the loads have finished: when no registers or ledger run is "
    "queued or running and one has succeeded since the last marts build started.",
)
def marts_after_loads(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """A polling sensor rather than a run-status one: a run-status sensor sees each run once, so
    after a batch's first load it cannot wait for the others and still act if the last one fails.
    Read from the run history instead, the rule needs no cursor and survives restarts."""
    instance = context.instance
    last_marts = next(iter(instance.get_run_records(dg.RunsFilter(job_name=MARTS_JOB), limit=1)), None)
    covered_since = last_marts.create_timestamp if last_marts else None
    loads = [
        record
        for job_name in LOAD_JOBS
        for records in (
            instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=NOT_FINISHED_STATUSES)),
            instance.get_run_records(
                dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.SUCCESS], updated_after=covered_since)
            ),
        )
        for record in records
    ]
    return marts_run_request(loads, last_marts)


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes every failed run to the log and to data/alerts.log, which the team watches.",
)
def load_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertLog) -> None:
    run = context.dagster_run
    failed_steps = [f"{event.step_key}: {event.message}" for event in context.get_step_failure_events()]
    message = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z run {run.run_id} of {run.job_name} FAILED"
        + (f" (partition {run.tags['dagster/partition']})" if "dagster/partition" in run.tags else "")
        + f": {context.failure_event.message}\n"
        + "".join(f"    {step}\n" for step in failed_steps)
    )
    context.log.error(message)
    alerts.write(message)
