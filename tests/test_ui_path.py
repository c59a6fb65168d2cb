"""What the data team sees in the Dagster UI. A ledger month launched the way they launch one:
submitted to the instance as the UI does, dequeued as the daemon does, run by the instance's run
launcher in its own process, its steps worked in that process (defs/jobs.py; runs executed in
process, the other tests and `pcw run`, share the test's Python process and hide what only a fresh
run process meets). And a backfill's quality gates, as the UI shows them month by month."""

import io
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pandas as pd
import pytest
import yaml
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._core.test_utils import poll_for_finished_run
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.run_coordinator import QueuedRunCoordinatorDaemon
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import execute_dagster_graphql

from dagster_project.cli.build import BuildResult
from dagster_project.cli.progress import BuildProgress
from dagster_project.definitions import build_definitions
from dagster_project.quality import expectations
from dagster_project.settings import PROJECT_ROOT, Settings, read_warehouse
from sample_data import GenerationConfig, generate

pytestmark = pytest.mark.e2e

MONTH = "2025-01-01"
# The run process imports the project afresh (seconds), so the run loads one ledger and its gate:
# the path is the same for every ledger.
TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
DEPOSITS = dg.AssetKey(["raw", "savings_deposits"])
GATE = "great_expectations"


def code_location() -> ModuleTarget:
    """The code location `dagster dev` loads, as pyproject.toml names it."""
    dagster = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dagster"]
    return ModuleTarget(
        module_name=dagster["module_name"],
        attribute=None,
        working_directory=str(PROJECT_ROOT),
        location_name=dagster["code_location_name"],
    )


def launch_from_ui(process_context: WorkspaceProcessContext, job_name: str, partition: str) -> str:
    """The UI's launch mutation for one partition of a job's asset and its gate; the run is queued
    (the instance's default run coordinator)."""
    selector = {
        "repositoryLocationName": code_location().location_name,
        "repositoryName": "__repository__",
        "jobName": job_name,
        "assetSelection": [{"path": TRANSACTIONS.path}],
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


@pytest.fixture
def sample(tmp_path, monkeypatch) -> Settings:
    """A one-commune sample of 2025, the settings in the environment for the code server and the
    processes it starts."""
    settings = Settings(
        data_dir=tmp_path, landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb"
    )
    generate(settings.landing_dir, GenerationConfig(communes=1, start_year=2025, end_year=2025))
    for name, value in {
        "PCW_DATA_DIR": settings.data_dir,
        "PCW_LANDING_DIR": settings.landing_dir,
        "PCW_WAREHOUSE": settings.warehouse_path,
    }.items():
        monkeypatch.setenv(name, str(value))
    return settings


@contextmanager
def instance_with_registers(settings: Settings) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance configured as the project's (dagster_home/dagster.yaml), with the
    registers the ledgers refer to loaded in-process: only the ledger run is under test."""
    home = settings.data_dir / "dagster_home"
    home.mkdir()
    project_instance = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8"))
    with dg.instance_for_test(overrides=project_instance, temp_dir=str(home)) as instance:
        assert (
            build_definitions(settings).resolve_job_def("registers_job").execute_in_process(instance=instance).success
        )
        yield instance


def test_a_ledger_month_launched_from_the_ui_loads_and_passes_its_gate(sample):
    with instance_with_registers(sample) as instance:
        with WorkspaceProcessContext(instance, code_location()) as process_context:
            run_id = launch_from_ui(process_context, "ledger_job", MONTH)
            list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(process_context))
            run = poll_for_finished_run(instance, run_id, timeout=240)

        failures = [
            f"{e.step_key}: {e.event_specific_data.error.to_string()}"
            for e in events(instance, run_id, dg.DagsterEventType.STEP_FAILURE)
        ]
        assert run.status == dg.DagsterRunStatus.SUCCESS, "\n".join(failures)
        assert run.tags["dagster/partition"] == MONTH
        engine = " ".join(e.message for e in events(instance, run_id, dg.DagsterEventType.ENGINE_EVENT))
        assert "Executing steps in process" in engine and "multiprocess" not in engine
        [loaded] = events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
        [gate] = [e.event_specific_data for e in events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        assert loaded.asset_key == TRANSACTIONS and loaded.partition == MONTH
        assert (gate.asset_key, gate.check_name, gate.passed) == (TRANSACTIONS, GATE, True), gate.description


# What the UI asks of an asset's checks: the latest execution (the check's status on the asset's
# page) and, for a partitioned check, the status of every partition (the partitions bar).
CHECK_STATUS = """
query CheckStatus($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) { ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks {
    name
    executionForLatestMaterialization { status partition evaluation { success description } }
    partitionStatuses { ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } } }
  } } } } }
}"""


def gate_status(process_context: WorkspaceProcessContext, asset_key: dg.AssetKey) -> dict:
    answer = execute_dagster_graphql(
        process_context.create_request_context(), CHECK_STATUS, {"assetKey": {"path": asset_key.path}}
    )
    assert not answer.errors, answer.errors
    [gate] = [c for c in answer.data["assetNodeOrError"]["assetChecksOrError"]["checks"] if c["name"] == GATE]
    return gate


def months(first: str, last: str, status: str) -> dict:
    return {"startKey": f"{first}-01", "endKey": f"{last}-01", "status": status}


SEPTEMBER_RULE = "no row of September 2025 (a rule only this test has)"


def with_a_rule_september_breaks(load_suite):
    """The transactions suite with one more rule, which every row loaded from a September file
    breaks: a failure in one month of a range (the loader's own rules leave nothing else for it)."""

    def load(folder: str, table: str, *seeds_dir) -> dict:
        suite = load_suite(folder, table, *seeds_dir)
        if (folder, table) == ("raw", "transactions"):
            september = {
                "type": "expect_column_values_to_not_match_regex",
                "meta": {"rule": SEPTEMBER_RULE},
                "kwargs": {"column": "source_file", "regex": r"_2025-09\."},
            }
            suite = {**suite, "expectations": [*suite["expectations"], september]}
        return suite

    return load


def rows_loaded(settings: Settings, source: str, month: str) -> int:
    """A month's ledger rows less those quarantined: what the month's landing files put in the raw table."""
    files = sorted((settings.landing_dir / source).glob(f"*/*_{month}.parquet"))
    with read_warehouse(settings.warehouse_path) as conn:
        [(quarantined,)] = conn.execute(
            "select count(distinct (source_file, source_line)) from raw.quarantine where source_file in "
            "(select unnest(?::varchar[]))",
            [[str(f.relative_to(settings.landing_dir)) for f in files]],
        ).fetchall()
    return sum(len(pd.read_parquet(f)) for f in files) - quarantined


def load_ledgers(settings: Settings, instance: dg.DagsterInstance, first: str, last: str) -> dg.ExecuteInProcessResult:
    """The ledger months from `first` to `last` in one run, as build.py and the landing sensor load them."""
    return (
        build_definitions(settings)
        .resolve_job_def("ledger_job")
        .execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={ASSET_PARTITION_RANGE_START_TAG: f"{first}-01", ASSET_PARTITION_RANGE_END_TAG: f"{last}-01"},
        )
    )


def test_a_backfill_shows_its_gates_month_by_month_passed_or_failed(sample, monkeypatch):
    """The ledgers load as backfills, a range of months in one run: the UI shows each month's gate
    passed (not skipped), and failed only in the month whose rows broke a rule."""
    monkeypatch.setattr(expectations, "load_suite", with_a_rule_september_breaks(expectations.load_suite))
    transactions_rules, deposits_rules = 4, 3
    with instance_with_registers(sample) as instance, WorkspaceProcessContext(instance, code_location()) as ui:
        assert load_ledgers(sample, instance, "2025-01", "2025-06").success
        for key, rules in ((TRANSACTIONS, transactions_rules), (DEPOSITS, deposits_rules)):
            gate = gate_status(ui, key)
            assert gate["partitionStatuses"]["ranges"] == [months("2025-01", "2025-06", "SUCCEEDED")]
            assert gate["executionForLatestMaterialization"] == {
                "status": "SUCCEEDED",
                "partition": "2025-06-01",
                "evaluation": {"success": True, "description": f"{rules} rules passed"},
            }

        second_half = load_ledgers(sample, instance, "2025-07", "2025-12")
        assert not second_half.success  # the gate still blocks
        transactions, deposits = gate_status(ui, TRANSACTIONS), gate_status(ui, DEPOSITS)
        said = said_of_gates(instance, second_half)

    assert deposits["partitionStatuses"]["ranges"] == [months("2025-01", "2025-12", "SUCCEEDED")]
    assert transactions["partitionStatuses"]["ranges"] == [
        months("2025-01", "2025-08", "SUCCEEDED"),
        months("2025-09", "2025-09", "FAILED"),
        months("2025-10", "2025-12", "SUCCEEDED"),
    ]
    for gate, rules in ((transactions, transactions_rules), (deposits, deposits_rules)):
        assert gate["executionForLatestMaterialization"]["partition"] == "2025-12-01"
        assert gate["executionForLatestMaterialization"]["evaluation"]["description"] == f"{rules} rules passed"
    # September's verdict names the rule, the month's rows that broke it, and some of them by file and line
    [september] = [e for e in second_half.get_asset_check_evaluations() if not e.passed]
    assert (september.asset_key, september.partition) == (TRANSACTIONS, "2025-09-01")
    broken = rows_loaded(sample, "transactions", "2025-09")
    assert september.description.startswith(f"FAILED: {SEPTEMBER_RULE} — {broken} rows, e.g. "), september.description
    assert september.description.count("transactions_08_2025-09.parquet:") == expectations.EXAMPLES_PER_RULE
    # the audit keeps each run's outcomes once, for the months validated together
    with read_warehouse(sample.warehouse_path) as conn:
        kept = conn.execute(
            "select partition_key, count(*), sum(unexpected_count) filter (where not passed) "
            "from audit.quality_results where guarded_table = 'raw.transactions' group by 1 order by 1"
        ).fetchall()
    assert kept == [("2025-01..2025-06", transactions_rules, None), ("2025-07..2025-12", transactions_rules, broken)]
    # and `pcw run` says so: a gate with a failed month failed, once, naming the month
    failed_checks = [f for f in BuildResult(runs={"ledger_job": second_half}).failures() if " / check " in f]
    assert failed_checks == [
        f"ledger_job / check raw/transactions:great_expectations (2025-09): {september.description}"
    ]
    assert said == "Quality gates: 1 passed, 1 FAILED (raw/transactions)"


def said_of_gates(instance: dg.DagsterInstance, run: dg.ExecuteInProcessResult) -> str:
    """What `pcw run` prints of a ledger run's gates, from the run's events."""
    out = io.StringIO()
    progress = BuildProgress(out, interactive=False)
    progress.start("ledger_job", ("2025-07", "2025-12"))  # as cli/build.py gives them
    for entry in instance.all_logs(run.run_id):
        progress.on_event(entry)
    progress.finish(run.success)
    return out.getvalue().splitlines()[-1]
