"""`pcw run` keeps one run history with the UI, and a run that died does not block the next build.

The runs of a build are recorded for the code location `dagster dev` loads, so the UI lists them on
their jobs' pages (checked through the UI's own GraphQL); a `pcw run` killed with -9 in the middle of
the ledger job leaves a run holding the warehouse's pool slot, which the next `pcw run` finds, marks
failed and frees before it builds; a signal stops `pcw run` even while its step waits for the pool."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster_graphql.test.utils import execute_dagster_graphql

from dagster_project.cli.build import build_warehouse
from dagster_project.cli.progress import BuildProgress
from dagster_project.cli.runs import code_location_origin, repository_label
from dagster_project.settings import PROJECT_ROOT, WAREHOUSE_POOL, Settings
from sample_data import GenerationConfig, generate
from tests.test_ui_path import code_location

pytestmark = pytest.mark.e2e

ONE_COMMUNE_ONE_YEAR = GenerationConfig(communes=1, start_year=2025, end_year=2025)
PCW = str(Path(sys.executable).with_name("pcw"))
JOBS = {"registers_job", "ledger_job", "marts_job"}

JOB_RUNS = """
query JobRuns($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { runs { runId status } }
  }
}
"""


def project_instance(home: Path) -> dg.DagsterInstance:
    """An instance in `home` with the project's dagster.yaml (its pool), as `make run` uses dagster_home/."""
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8"))
    return dg.DagsterInstance.from_config(str(home))


@pytest.fixture
def landing(tmp_path) -> Settings:
    settings = Settings(
        data_dir=tmp_path, landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb"
    )
    generate(settings.landing_dir, ONE_COMMUNE_ONE_YEAR)
    return settings


def pcw_env(settings: Settings, home: Path) -> dict:
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PCW_DATA_DIR": str(settings.data_dir),
        "PCW_LANDING_DIR": str(settings.landing_dir),
        "PCW_WAREHOUSE": str(settings.warehouse_path),
    }


def test_a_build_records_its_runs_where_the_ui_lists_them(landing, tmp_path, monkeypatch):
    for name, value in pcw_env(landing, tmp_path / "dagster_home").items():
        monkeypatch.setenv(name, value)  # the code server the UI's GraphQL starts reads these
    with project_instance(tmp_path / "dagster_home") as instance:
        result = build_warehouse(landing, instance, progress=BuildProgress(io.StringIO()))
        assert result.success, "\n".join(result.failures())

        runs = instance.get_runs()
        assert {run.job_name for run in runs} == JOBS and len(runs) == 3
        # the tag the UI's job pages filter runs by (stored beside the run's own tags)
        assert repository_label() == "__repository__@policy_credit_warehouse"
        labelled = instance.get_runs(dg.RunsFilter(tags={REPOSITORY_LABEL_TAG: repository_label()}))
        assert sorted(run.run_id for run in labelled) == sorted(run.run_id for run in runs)
        for run in runs:
            assert run.status == dg.DagsterRunStatus.SUCCESS
            assert run.remote_job_origin.location_name == code_location().location_name
            assert run.remote_job_origin.repository_origin.code_location_origin == code_location_origin()

        # each job's page in the UI (Runs tab) lists its run: the same query the UI sends
        with WorkspaceProcessContext(instance, code_location()) as process_context:
            for run in runs:
                selector = {
                    "repositoryLocationName": code_location().location_name,
                    "repositoryName": "__repository__",
                    "pipelineName": run.job_name,
                }
                job = execute_dagster_graphql(
                    process_context.create_request_context(), JOB_RUNS, {"selector": selector}
                ).data["pipelineOrError"]
                assert job["runs"] == [{"runId": run.run_id, "status": "SUCCESS"}], job


def frozen_holding_the_pool(process: subprocess.Popen, instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    """Stop `process` (SIGSTOP) at a moment one of its ledger_job runs holds the pool's slot, and
    return that run; None (the process running on) if it holds none when stopped. Ledger steps of a
    tiny sample take well under a second: a kill aimed by polling alone can land between two steps."""
    storage = instance.event_log_storage
    if not storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids:
        return None
    process.send_signal(signal.SIGSTOP)
    try:
        holders = storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids
        runs = instance.get_runs(dg.RunsFilter(run_ids=list(holders), job_name="ledger_job")) if holders else []
    except Exception:  # the stopped process held the storage's lock: try again
        runs = []
    if not runs:
        process.send_signal(signal.SIGCONT)
        return None
    return runs[0]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_run_killed_with_its_command_frees_the_pool_for_the_next_build(landing, tmp_path):
    home = tmp_path / "dagster_home"
    env = pcw_env(landing, home)
    with project_instance(home) as instance:
        first = subprocess.Popen(
            [PCW, "run"], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            dead = wait_for(lambda: frozen_holding_the_pool(first, instance), 600, "a ledger step holding the pool")
        finally:
            first.kill()  # kill -9, in the middle of the ledger job
            first.communicate(timeout=60)  # reaped: its pid no longer exists
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids == {dead.run_id}  # held

        second = subprocess.run([PCW, "run"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
        assert second.returncode == 0, second.stdout + second.stderr
        assert f"A ledger_job run ({dead.run_id}) had died with its process (pid {first.pid})" in second.stdout
        assert "Warehouse built in" in second.stdout

        dead = instance.get_run_by_id(dead.run_id)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        [failure] = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert f"its process (pid {first.pid}) is gone" in failure.dagster_event.message
        latest = {run.job_name: run.status for run in reversed(instance.get_runs())}  # the newest run of each job
        assert latest == dict.fromkeys(JOBS, dg.DagsterRunStatus.SUCCESS)
        assert not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids


def test_a_signal_stops_a_build_waiting_for_the_pool(landing, tmp_path):
    home = tmp_path / "dagster_home"
    with project_instance(home) as instance:
        # another writer holds the warehouse's one slot, alive as far as anyone can tell
        storage = instance.event_log_storage
        storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "another-run", "its_step").is_claimed

        build = subprocess.Popen(
            [PCW, "run"],
            env=pcw_env(landing, home),
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def blocked():
                return any(
                    "blocked by limit for pool" in (e.message or "")
                    for run in instance.get_runs()
                    for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
                )

            wait_for(blocked, 300, "a step blocked by the pool")
            build.send_signal(signal.SIGTERM)
            out, err = build.communicate(timeout=30)
        finally:
            build.kill()
        assert build.returncode == 128 + signal.SIGTERM, out + err
        assert "stopped by SIGTERM" in err and "Traceback" not in err, err
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.CANCELED
        # what `pcw run` said while it waited, on a terminal
        said = io.StringIO()
        progress = BuildProgress(said, interactive=True)
        progress.start(run.job_name)
        for entry in instance.all_logs(run.run_id):
            progress.on_event(entry)
        assert f"waiting: another run's step holds the pool {WAREHOUSE_POOL}" in said.getvalue()
        pool = storage.get_concurrency_info(WAREHOUSE_POOL)
        assert (pool.active_run_ids, pool.pending_run_ids) == ({"another-run"}, set())  # its waiting step withdrawn


def test_the_ui_started_in_the_background_stops_on_sigterm(tmp_path):
    """A shell without job control starts a background command (`make dev &` in a script) with SIGINT
    ignored, and `dagster dev` handles SIGTERM as SIGINT: started so, it ignored both. `pcw dev` does not."""
    dev = subprocess.Popen(
        [PCW, "dev", "-p", "3917"],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        start_new_session=True,
    )
    try:
        for line in dev.stdout:
            if "Launching Dagster services" in line:
                break
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=60)
    finally:
        try:
            os.killpg(dev.pid, signal.SIGKILL)  # whatever it started, if anything is left
        except ProcessLookupError:
            pass
