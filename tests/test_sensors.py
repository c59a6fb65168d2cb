"""Ledger partitions fit the data; the landing sensor asks for one registers run and one ledger run
over the changed months; the marts rebuild once after a batch of loads."""

import json
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._core.test_utils import create_run_for_test

from dagster_project.defs.jobs import build_monthly_ledger_schedule
from dagster_project.defs.loads import ledger_partitions
from dagster_project.defs.resources import LandingFolder
from dagster_project.defs.sensors import (
    build_landing_folder_sensor,
    landing_run_requests,
    loadable_files,
    marts_after_loads,
)
from dagster_project.settings import Settings
from dagster_project.warehouse.build_plan import ledger_span, plan_build

pytestmark = pytest.mark.unit

THIS_MONTH = f"{datetime.now(UTC):%Y-%m}"


def settings_for(tmp_path, first_ledger_month=None) -> Settings:
    return Settings(
        data_dir=tmp_path,
        landing_dir=tmp_path / "landing",
        warehouse_path=tmp_path / "warehouse.duckdb",
        first_ledger_month=first_ledger_month,
    )


def drop(landing, *files: str) -> None:
    for relative in files:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


# partitions


def test_partitions_start_at_the_earliest_ledger_month_and_end_at_the_current_month(tmp_path):
    settings = settings_for(tmp_path)
    drop(
        settings.landing_dir,
        "loans/08/loans_08.csv",
        "transactions/08/transactions_08_2024-03.parquet",
        "savings_deposits/02/savings_deposits_02_2023-11.csv",
    )
    partitions = ledger_partitions(settings)
    assert partitions.get_first_partition_key() == "2023-11-01"
    assert partitions.get_last_partition_key() == f"{THIS_MONTH}-01"


def test_the_setting_wins_and_an_empty_folder_starts_at_the_current_month(tmp_path):
    settings = settings_for(tmp_path)
    assert ledger_partitions(settings).get_partition_keys() == [f"{THIS_MONTH}-01"]
    drop(settings.landing_dir, "transactions/08/transactions_08_2024-03.parquet")
    assert ledger_partitions(settings_for(tmp_path, "2024-05")).get_first_partition_key() == "2024-05-01"
    with pytest.raises(ValueError, match="PCW_FIRST_LEDGER_MONTH"):
        settings_for(tmp_path, "2024-13")


def test_the_setting_comes_from_the_environment():
    assert Settings.from_env({"PCW_FIRST_LEDGER_MONTH": "2020-02"}).first_ledger_month == "2020-02"
    assert Settings.from_env({}).first_ledger_month is None


def test_the_whole_build_loads_the_ledger_months_that_are_partitions(tmp_path):
    settings = settings_for(tmp_path, "2024-01")
    drop(
        settings.landing_dir,
        *(f"transactions/08/transactions_08_{m}.parquet" for m in ("2023-12", "2024-01", "2024-03")),
    )
    assert plan_build(settings).ledger_months == ["2024-01", "2024-03"]
    assert plan_build(settings, span=("2025-01", THIS_MONTH)).ledger_months == []


def test_the_build_plan_sees_the_partitions_the_definitions_make(tmp_path, monkeypatch):
    """The plan works out the ledger partitions without loading Dagster: the same months."""
    settings = settings_for(tmp_path)
    drop(settings.landing_dir, "transactions/08/transactions_08_2023-11.parquet")
    for load_date in (None, "2027-03-15"):  # a load date set ahead moves the end with it
        if load_date:
            monkeypatch.setenv("PCW_LOAD_DATE", load_date)
        partitions = ledger_partitions(settings)
        first, last = ledger_span(settings)
        assert (f"{first}-01", f"{last}-01") == (
            partitions.get_first_partition_key(),
            partitions.get_last_partition_key(),
        )
    assert last == max("2027-03", THIS_MONTH)


def test_the_schedule_loads_last_month_when_it_is_a_partition():
    partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    schedule = build_monthly_ledger_schedule(partitions)
    on_the_fifth = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 7, 5, 6, tzinfo=UTC))
    assert schedule(on_the_fifth).partition_key == "2024-06-01"
    too_early = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 1, 5, 6, tzinfo=UTC))
    assert isinstance(schedule(too_early), dg.SkipReason)


# the landing sensor's requests

BEFORE = {
    "loans/08/loans_08.csv": "100:1",
    "transactions/08/transactions_08_2024-05.parquet": "50:1",
    "transactions/08/transactions_08_2024-06.parquet": "60:1",
}
AFTER = BEFORE | {
    "transactions/08/transactions_08_2024-06.parquet": "61:2",  # a corrected re-send
    "transactions/02/transactions_02_2024-03.parquet": "70:2",  # another branch, an earlier month
    "savings_deposits/08/savings_deposits_08_2024-09.csv": "9:2",
    "loans/08/loans_08.csv": "101:2",
    "borrowers/02/borrowers_02.csv": "5:2",
}


def test_changes_over_several_months_and_registers_ask_for_one_run_each():
    registers, ledger = landing_run_requests(BEFORE, AFTER)

    assert registers.job_name == "registers_job" and registers.partition_key is None
    assert registers.tags["landing_files"] == "borrowers/02/borrowers_02.csv, loans/08/loans_08.csv"
    assert ledger.job_name == "ledger_job" and ledger.partition_key is None
    assert ledger.partition_key_range == dg.PartitionKeyRange("2024-03-01", "2024-09-01")
    assert ledger.tags[ASSET_PARTITION_RANGE_START_TAG] == "2024-03-01"
    assert ledger.tags[ASSET_PARTITION_RANGE_END_TAG] == "2024-09-01"
    assert "transactions/08/transactions_08_2024-05.parquet" not in ledger.tags["landing_files"]  # unchanged
    assert ledger.run_key.startswith("ledger|2024-03..2024-09|")


def test_the_same_change_has_the_same_run_keys_and_a_new_version_new_ones():
    assert landing_run_requests(BEFORE, AFTER) == landing_run_requests(BEFORE, AFTER)
    assert landing_run_requests(AFTER, AFTER) == []
    resent = AFTER | {"loans/08/loans_08.csv": "101:3"}
    [registers] = landing_run_requests(AFTER, resent)
    assert registers.job_name == "registers_job"
    assert registers.run_key != landing_run_requests(BEFORE, AFTER)[0].run_key
    [ledger] = landing_run_requests(AFTER, AFTER | {"transactions/08/transactions_08_2024-05.parquet": "51:3"})
    assert ledger.partition_key_range == dg.PartitionKeyRange("2024-05-01", "2024-05-01")


def test_only_files_of_existing_partitions_are_loadable():
    partitions = dg.MonthlyPartitionsDefinition(start_date="2024-04-01", end_offset=1)
    state = AFTER | {
        "transactions/08/transactions_08_2999-01.parquet": "1:1",  # a month after this one
        "transactions/08/transactions_08.parquet": "1:1",  # no month in the name
    }
    loadable = loadable_files(state, partitions)
    assert sorted(set(state) - set(loadable)) == [
        "transactions/02/transactions_02_2024-03.parquet",
        "transactions/08/transactions_08.parquet",
        "transactions/08/transactions_08_2999-01.parquet",
    ]
    assert "loans/08/loans_08.csv" in loadable and "borrowers/02/borrowers_02.csv" in loadable
    ledger = landing_run_requests(BEFORE, loadable)[1]
    assert ledger.partition_key_range == dg.PartitionKeyRange("2024-06-01", "2024-09-01")


def test_the_sensor_loads_a_fresh_folder_registers_first_then_one_ledger_backfill(tmp_path):
    settings = settings_for(tmp_path, "2024-02")
    drop(
        settings.landing_dir,
        "loans/08/loans_08.csv",
        "groups/08/groups_08.csv",
        *(f"transactions/08/transactions_08_2024-{m:02}.parquet" for m in range(1, 13)),
        *(f"savings_deposits/08/savings_deposits_08_2024-{m:02}.csv" for m in range(1, 13)),
    )
    sensor = build_landing_folder_sensor(ledger_partitions(settings))
    landing = {"landing": LandingFolder(path=str(settings.landing_dir))}

    with dg.instance_for_test() as instance:
        # the registers first: the ledgers' rows are checked against them
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=landing))
        (registers,) = first.run_requests
        assert registers.job_name == "registers_job"
        assert not any(f.startswith("transactions/") for f in json.loads(first.cursor))

        # while the registers load, the ledgers still wait
        create_run_for_test(instance, job_name="registers_job", status=dg.DagsterRunStatus.STARTED)
        assert (
            sensor.evaluate_tick(
                dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=landing)
            ).run_requests
            == []
        )
        for record in instance.get_run_records(dg.RunsFilter(job_name="registers_job")):
            instance.report_run_canceled(record.dagster_run)

        # then one ledger run over every month that is a partition
        result = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=landing)
        )
        (ledger,) = result.run_requests
        assert (ledger.job_name, ledger.partition_key_range) == (
            "ledger_job",
            dg.PartitionKeyRange("2024-02-01", "2024-12-01"),
        )
        cursor = json.loads(result.cursor)
        assert "transactions/08/transactions_08_2024-01.parquet" not in cursor  # before the first partition
        assert "transactions/08/transactions_08_2024-02.parquet" in cursor

        again = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, resources=landing)
        )
        assert again.run_requests == []


# the marts after the loads


def finished_run(instance: dg.DagsterInstance, job_name: str) -> str:
    """A run of a stand-in job with the real job's name, executed so that it has start and end times."""

    @dg.op
    def step():
        pass

    @dg.job(name=job_name)
    def stand_in():
        step()

    return stand_in.execute_in_process(instance=instance).run_id


def evaluate_marts_sensor(instance: dg.DagsterInstance):
    return marts_after_loads(dg.build_sensor_context(instance=instance))


def test_one_marts_build_after_a_batch_of_loads_has_finished():
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate_marts_sensor(instance), dg.SkipReason)  # no load yet

        finished_run(instance, "registers_job")
        ledger = create_run_for_test(instance, job_name="ledger_job", status=dg.DagsterRunStatus.STARTED)
        waiting = evaluate_marts_sensor(instance)
        assert isinstance(waiting, dg.SkipReason) and "load run" in waiting.skip_message

        instance.delete_run(ledger.run_id)  # the batch's ledger run ends (here: replaced by a finished one)
        newest = finished_run(instance, "ledger_job")
        request = evaluate_marts_sensor(instance)
        assert isinstance(request, dg.RunRequest) and request.run_key == f"after-{newest}"
        assert evaluate_marts_sensor(instance).run_key == request.run_key  # the same batch, the same build

        marts = create_run_for_test(instance, job_name="marts_job", status=dg.DagsterRunStatus.NOT_STARTED)
        assert "has not finished" in evaluate_marts_sensor(instance).skip_message
        instance.delete_run(marts.run_id)
        finished_run(instance, "marts_job")
        assert isinstance(evaluate_marts_sensor(instance), dg.SkipReason)  # the build covered the batch


def test_a_load_that_succeeds_while_another_fails_still_gets_its_build():
    with dg.instance_for_test() as instance:
        finished_run(instance, "marts_job")
        registers = finished_run(instance, "registers_job")
        create_run_for_test(instance, job_name="ledger_job", status=dg.DagsterRunStatus.FAILURE)
        request = evaluate_marts_sensor(instance)
        assert isinstance(request, dg.RunRequest) and request.run_key == f"after-{registers}"
