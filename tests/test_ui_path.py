"""A ledger month launched the way the data team launches one: submitted to the instance as the UI
does, dequeued as the daemon does, run by the instance's run launcher in its own process, and each
step in a fresh subprocess of the multiprocess executor. In-process runs (the other tests, `pcw
run`) share the test's Python process and hide what only a fresh step process meets."""

import tomllib

import dagster as dg
import yaml
from dagster._core.test_utils import poll_for_finished_run
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.run_coordinator import QueuedRunCoordinatorDaemon
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import execute_dagster_graphql

from dagster_project.definitions import build_definitions
from dagster_project.sample_data import GenerationConfig, generate
from dagster_project.settings import PROJECT_ROOT, Settings
from tests.conftest import kept_environment

MONTH = "2025-01-01"
# Every step process imports the project afresh (seconds each), so the run loads one ledger and its
# gate: the path is the same for every ledger.
TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
GATE = "great_expectations"


def code_location() -> ModuleTarget:
    """The code location `dagster dev` loads, as pyproject.toml names it."""
    dagster = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dagster"]
    return ModuleTarget(
        module_name=dagster["module_name"], attribute=None, working_directory=str(PROJECT_ROOT),
        location_name=dagster["code_location_name"],
    )


def launch_from_ui(process_context: WorkspaceProcessContext, job_name: str, partition: str) -> str:
    """The UI's launch mutation for one partition of a job's asset and its gate; the run is queued
    (the instance's default run coordinator)."""
    selector = {
        "repositoryLocationName": code_location().location_name, "repositoryName": "__repository__",
        "jobName": job_name, "assetSelection": [{"path": TRANSACTIONS.path}],
        "assetCheckSelection": [{"assetKey": {"path": TRANSACTIONS.path}, "name": GATE}],
    }
    tags = [{"key": "dagster/partition", "value": partition}]
    launched = execute_dagster_graphql(
        process_context.create_request_context(),
        LAUNCH_PIPELINE_EXECUTION_MUTATION,
        {"executionParams": {"selector": selector, "executionMetadata": {"tags": tags}}},
    ).data["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [entry.dagster_event for entry in instance.all_logs(run_id, of_type=kind)]


def test_a_ledger_month_launched_from_the_ui_loads_and_passes_its_gate(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path, landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb")
    generate(settings.landing_dir, GenerationConfig(communes=1, start_year=2025, end_year=2025))
    for name, value in {"PCW_DATA_DIR": settings.data_dir, "PCW_LANDING_DIR": settings.landing_dir,
                        "PCW_WAREHOUSE": settings.warehouse_path}.items():
        monkeypatch.setenv(name, str(value))  # the code server and the processes it starts read these
    home = tmp_path / "dagster_home"
    home.mkdir()
    project_instance = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8"))

    with dg.instance_for_test(overrides=project_instance, temp_dir=str(home)) as instance:
        # The registers the ledger refers to, loaded in-process: only the ledger run is under test.
        with kept_environment():
            assert build_definitions(settings).resolve_job_def("registers_job").execute_in_process(instance=instance).success

        with WorkspaceProcessContext(instance, code_location()) as process_context:
            run_id = launch_from_ui(process_context, "ledger_job", MONTH)
            list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(process_context))
            run = poll_for_finished_run(instance, run_id, timeout=240)

        failures = [f"{e.step_key}: {e.event_specific_data.error.to_string()}"
                    for e in events(instance, run_id, dg.DagsterEventType.STEP_FAILURE)]
        assert run.status == dg.DagsterRunStatus.SUCCESS, "\n".join(failures)
        assert run.tags["dagster/partition"] == MONTH
        assert "multiprocess executor" in " ".join(e.message for e in events(instance, run_id, dg.DagsterEventType.ENGINE_EVENT))
        [loaded] = events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
        [gate] = [e.event_specific_data for e in events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        assert loaded.asset_key == TRANSACTIONS and loaded.partition == MONTH
        assert (gate.asset_key, gate.check_name, gate.passed) == (TRANSACTIONS, GATE, True), gate.description
