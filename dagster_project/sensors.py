"""Sensors: new landing files start loads, successful loads rebuild the marts, failures raise an alert."""


import json
from datetime import datetime, timezone

import dagster as dg

from dagster_project.contract import LANDING_SOURCES
from dagster_project.jobs import ledger_job, marts_job, registers_job
from dagster_project.settings import Settings


def _landing_state(settings: Settings) -> dict[str, str]:
    """Every landing file with its size and modification time: what the cursor remembers."""
    state = {}
    for source in LANDING_SOURCES.values():
        for path in sorted((settings.landing_dir / source.folder).glob("*/*")):
            if path.suffix in (".csv", ".parquet"):
                stat = path.stat()
                state[path.relative_to(settings.landing_dir).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return state


def landing_run_requests(previous: dict[str, str], current: dict[str, str]) -> list[dg.RunRequest]:
    """One run per changed ledger month and one for changed registers; the run key names the
    files and versions, so the same change never starts two runs."""
    changed = sorted(f for f, version in current.items() if previous.get(f) != version)
    months: dict[str, list[str]] = {}
    registers: list[str] = []
    for relative in changed:
        source = LANDING_SOURCES[relative.split("/", 1)[0]]
        if source.monthly:
            months.setdefault(relative.rsplit("_", 1)[1][:7], []).append(relative)
        else:
            registers.append(relative)
    requests = []
    if registers:
        requests.append(
            dg.RunRequest(
                job_name=registers_job.name,
                run_key="registers|" + "|".join(f"{f}@{current[f]}" for f in registers),
                tags={"landing_files": ", ".join(registers)[:1000]},
            )
        )
    for month, files in sorted(months.items()):
        requests.append(
            dg.RunRequest(
                job_name=ledger_job.name,
                partition_key=f"{month}-01",
                run_key=f"ledger|{month}|" + "|".join(f"{f}@{current[f]}" for f in files),
                tags={"landing_files": ", ".join(files)[:1000]},
            )
        )
    return requests


@dg.sensor(
    jobs=[registers_job, ledger_job],
    minimum_interval_seconds=60,
    description="Watches the landing folder; starts a load for each new or changed file.",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    previous = json.loads(context.cursor) if context.cursor else {}
    current = _landing_state(Settings.from_env())
    requests = landing_run_requests(previous, current)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current, sort_keys=True))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[registers_job, ledger_job],
    request_job=marts_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the dbt marts after every successful load.",
)
def marts_after_loads(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes every failed run to the log and to data/alerts.log, which the team watches.",
)
def load_failure_alert(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    failed_steps = [
        f"{event.step_key}: {event.message}" for event in context.get_step_failure_events()
    ]
    message = (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S}Z run {run.run_id} of {run.job_name} FAILED"
        + (f" (partition {run.tags['dagster/partition']})" if "dagster/partition" in run.tags else "")
        + f": {context.failure_event.message}\n"
        + "".join(f"    {step}\n" for step in failed_steps)
    )
    context.log.error(message)
    alerts = Settings.from_env().data_dir / "alerts.log"
    alerts.parent.mkdir(parents=True, exist_ok=True)
    with alerts.open("a", encoding="utf-8") as f:
        f.write(message)
