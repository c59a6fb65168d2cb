"""The runs of `pcw run` and `pcw marts`, kept as the UI keeps its own.

Each run is recorded for the code location `dagster dev` loads (pyproject.toml's [tool.dagster]), so
it shows on its job's Runs tab and the Overview timeline; the command itself is the run worker
(in-process executor, on a thread while the main thread follows the run's stored events), so a
run lives and dies with the command. A run whose process died (kill -9, a crash, a closed laptop)
would keep its step's slot in the pool `duckdb_warehouse` forever: the next command finds such
runs, marks them failed and frees their slots. A signal (Ctrl-C, SIGTERM) stops the command at
once, even while a step waits for the pool, and cancels its run the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import create_execution_plan, execute_run
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.workspace.load import location_origin_from_module_name

from dagster_project.settings import PROJECT_ROOT

# Where a run's worker lives, so that a later command can tell whether it still does.
PID_TAG, HOST_TAG = "pcw/pid", "pcw/host"
# One process a run: the multiprocess executor starts a Python process per step, each importing
# the definitions again (seconds each, ~20 steps in registers_job).
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
REPOSITORY = "__repository__"  # the one repository of a Definitions object
IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@cache
def code_location_origin():
    """The code location `dagster dev` loads, as pyproject.toml names it (no code server started)."""
    dagster = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dagster"]
    return location_origin_from_module_name(
        dagster["module_name"], None, str(PROJECT_ROOT), location_name=dagster["code_location_name"]
    )


def remote_job_origin(job_name: str) -> RemoteJobOrigin:
    return RemoteRepositoryOrigin(code_location_origin(), REPOSITORY).get_job_origin(job_name)


def repository_label() -> str:
    """What the UI filters a job's runs by (the `.dagster/repository` tag)."""
    return RemoteRepositoryOrigin(code_location_origin(), REPOSITORY).get_label()


def create_run(instance: dg.DagsterInstance, job: dg.JobDefinition, tags: dict, run_config: dict) -> dg.DagsterRun:
    """A run of `job` as the UI would create it for the code location, worked by this process."""
    run_config = {**IN_PROCESS, **run_config}
    plan = create_execution_plan(
        InMemoryJob(job), run_config=run_config, instance_ref=instance.get_ref() if instance.is_persistent else None
    )
    return instance.create_run_for_job(
        job_def=job,
        execution_plan=plan,
        run_config=run_config,
        tags={**job.run_tags, **tags, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
        remote_job_origin=remote_job_origin(job.name),
    )


class Stopped(Exception):
    """A signal stopped the command while a run was in progress; the run is canceled."""

    def __init__(self, signum: int, run: dg.DagsterRun | None = None):
        self.signum, self.run = signum, run
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise Stopped in the main thread, wherever the run is (Dagster's own handlers,
    which only take note of a signal until a step reaches a checkpoint, belong to the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def execute(
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    run: dg.DagsterRun,
    on_event: Callable | None = None,
    poll_seconds: float = 0.5,
) -> dg.ExecuteInProcessResult:
    """Work `run` on a thread and follow its stored events here (`on_event` takes each event log
    entry), until it ends or a signal stops the command."""
    crashed: list[BaseException] = []

    def work() -> None:
        try:
            execute_run(InMemoryJob(job), run, instance)
        except BaseException as error:  # the run's own errors are events; this is Dagster failing
            crashed.append(error)

    worker = threading.Thread(target=work, name=f"run {run.run_id}", daemon=True)
    follow = _follower(instance, run.run_id, on_event)
    with stopped_by_signals(), _terminal_kept() as give_back_terminal:
        try:
            worker.start()
            while worker.is_alive():
                worker.join(poll_seconds)
                follow()
        except Stopped as stopped:
            give_back_terminal()  # the run's log capture holds stdout and stderr until the run ends
            cancel(instance, run.run_id, f"`pcw` was stopped by {signal.Signals(stopped.signum).name}")
            raise Stopped(stopped.signum, run) from None
    follow()
    if crashed:
        fail(instance, run.run_id, f"the run could not execute: {crashed[0]!r}")
    return dg.ExecuteInProcessResult(
        event_list=[e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event],
        dagster_run=instance.get_run_by_id(run.run_id),
        output_capture=None,
        job_def=job,
    )


@contextmanager
def _terminal_kept() -> Iterator[Callable[[], None]]:
    """Dagster's compute log capture points stdout and stderr (file descriptors 1 and 2) at the run's
    log file while the run lasts: keep the command's own, to give them back to a stopped command."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    kept = {fd: os.dup(fd) for fd in (1, 2)}

    def give_back() -> None:
        for fd, own in kept.items():
            os.dup2(own, fd)

    try:
        yield give_back
    finally:
        for own in kept.values():
            os.close(own)


def _follower(instance: dg.DagsterInstance, run_id: str, on_event: Callable | None) -> Callable[[], None]:
    cursor = None

    def follow() -> None:
        nonlocal cursor
        while on_event is not None:
            page = instance.get_records_for_run(run_id, cursor=cursor, limit=1000)
            for record in page.records:
                on_event(record.event_log_entry)
            cursor = page.cursor
            if not page.has_more:
                return

    return follow


def cancel(instance: dg.DagsterInstance, run_id: str, why: str) -> None:
    """Cancel a run this process works, freeing its pool slots and stopping its subprocesses (dbt)."""
    run = instance.get_run_by_id(run_id)
    if run and not run.is_finished:
        instance.report_run_canceled(run, f"Run canceled: {why}.")
    free_slots(instance, run_id)
    for pid in _child_processes(os.getpid()):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass


def fail(instance: dg.DagsterInstance, run_id: str, why: str) -> None:
    run = instance.get_run_by_id(run_id)
    if run and not run.is_finished:
        instance.report_run_failed(run, f"Run failed: {why}.")
    free_slots(instance, run_id)


def free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    """The run's pool slots, held or waited for, given back."""
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def _child_processes(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc; elsewhere none are known)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            children.append(int(stat.parent.name))
    return children


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    pid: int


def worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The process working `run` on this machine: the pid `pcw` tagged it with, else the first
    process its engine events name (a run launched from the UI: its run worker)."""
    if PID_TAG in run.tags:
        return int(run.tags[PID_TAG]) if run.tags.get(HOST_TAG) == socket.gethostname() else None
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        pid = entry.dagster_event.engine_event_data.metadata.get("pid")
        if pid is not None:
            return int(pid.value)
    return None


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def recover_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    """Mark failed every run in progress whose worker process is gone, and free the pool slots it
    held (else the next step of the pool waits forever)."""
    dead = []
    for run in instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS)):
        pid = worker_pid(instance, run)
        if pid is None or process_exists(pid):
            continue
        fail(
            instance,
            run.run_id,
            f"its process (pid {pid}) is gone, killed or crashed; found by `pcw`, which "
            "freed the pool slots it held. Build again to redo its work",
        )
        dead.append(DeadRun(run.run_id, run.job_name, pid))
    return dead
