"""The loan × month-end models recompute only the months a load changed, and give the same rows as
a build from all history: a new month appended, an older month re-sent, a register reloaded."""

import os
import shutil
from datetime import date

import dagster as dg
import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dagster_project.build import build_warehouse
from dagster_project.definitions import build_definitions
from dagster_project.sample_data import generate
from dagster_project.settings import Settings
from tests.conftest import SMALL_SAMPLE

LOAN_MONTH_TABLES = [
    "int_loan_balances__month_end", "int_loan_state__month_end", "int_group_months",
    "mart_outstanding_balance", "mart_group_outstanding", "mart_debt_quality", "mart_group_scorecard",
    "mart_province_headlines", "mart_mobile_banking", "mart_entrustment_fees",
]
LAST_MONTH = "2025-12"


def run_jobs(settings: Settings, *jobs: tuple[str, str | None, dict | None]) -> None:
    saved = dict(os.environ)  # the jobs export their settings for dbt
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        for job, partition, ops_config in jobs:
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key=partition, raise_on_error=False,
                run_config={"ops": ops_config} if ops_config else None,
            )
            assert result.success, f"{job} failed"
    os.environ.clear()
    os.environ.update(saved)


def last_recomputed_from(settings: Settings) -> set:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return set(conn.execute(
            "select distinct ledger_months_from from audit.dbt_model_builds "
            "where started_at = (select max(started_at) from audit.dbt_model_builds)"
        ).fetchall())


def rows_differing(settings: Settings, reference: Settings) -> dict[str, int]:
    """Rows of each loan × month-end table in one warehouse and not the other, both ways."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        conn.execute(f"attach '{reference.warehouse_path}' as reference (read_only)")
        return {
            table: conn.execute(
                f"select (select count(*) from (select * from main.{table} except all select * from reference.main.{table}))"
                f" + (select count(*) from (select * from reference.main.{table} except all select * from main.{table}))"
            ).fetchone()[0]
            for table in LOAN_MONTH_TABLES
        }


def copy_warehouse(settings: Settings, folder) -> Settings:
    copied = Settings(data_dir=folder, landing_dir=settings.landing_dir, warehouse_path=folder / "warehouse.duckdb")
    folder.mkdir()
    shutil.copy(settings.warehouse_path, copied.warehouse_path)
    return copied


def full_refresh(settings: Settings) -> None:
    run_jobs(settings, ("marts_job", None, {"dbt_models": {"config": {"full_refresh": True}}}))


@pytest.fixture(scope="module")
def month_by_month(tmp_path_factory) -> Settings:
    """The small sample's warehouse built without its last month, then that month loaded on its own."""
    data = tmp_path_factory.mktemp("pcw_incremental")
    settings = Settings(data_dir=data, landing_dir=data / "landing", warehouse_path=data / "warehouse.duckdb")
    generate(settings.landing_dir, SMALL_SAMPLE)
    held_back = data / "held_back"
    for path in settings.landing_dir.glob(f"*/*/*_{LAST_MONTH}.*"):
        (held_back / path.parent.relative_to(settings.landing_dir)).mkdir(parents=True, exist_ok=True)
        shutil.move(path, held_back / path.relative_to(settings.landing_dir))
    saved = dict(os.environ)
    with dg.DagsterInstance.ephemeral() as instance:
        assert build_warehouse(settings, instance).success
    os.environ.clear()
    os.environ.update(saved)
    assert last_recomputed_from(settings) == {(None,)}  # the first build computes every month

    shutil.copytree(held_back, settings.landing_dir, dirs_exist_ok=True)
    run_jobs(settings, ("ledger_job", f"{LAST_MONTH}-01", None), ("marts_job", None, None))
    return settings


def test_a_new_month_recomputes_that_month_only_and_equals_a_build_from_all_history(month_by_month, small_warehouse):
    assert last_recomputed_from(month_by_month) == {(date(2025, 12, 31),)}
    assert rows_differing(month_by_month, small_warehouse[0]) == dict.fromkeys(LOAN_MONTH_TABLES, 0)
    with duckdb.connect(str(month_by_month.warehouse_path), read_only=True) as conn:
        gated = conn.execute(
            "select partition_key, bool_and(passed) from audit.quality_results where guarded_table = 'main.mart_debt_quality' "
            "and checked_at = (select max(checked_at) from audit.quality_results where guarded_table = 'main.mart_debt_quality') "
            "group by partition_key"
        ).fetchall()
    assert gated == [("2025-12-31..", True)]  # the quality gate validated the recomputed month


def test_a_resent_month_recomputes_from_there_on_and_equals_a_full_refresh(month_by_month, tmp_path):
    settings = copy_warehouse(month_by_month, tmp_path / "resent")
    settings = Settings(data_dir=settings.data_dir, landing_dir=tmp_path / "landing", warehouse_path=settings.warehouse_path)
    shutil.copytree(month_by_month.landing_dir, settings.landing_dir)
    # the June file again, without one principal repayment: every later month of that loan owes more
    (june,) = settings.landing_dir.glob("transactions/*/transactions_*_2025-06.parquet")
    ledger = pq.read_table(june)
    repayments = pc.equal(ledger["transaction_type"], "principal_repayment")
    first = pc.index(repayments, True).as_py()
    pq.write_table(ledger.take([i for i in range(ledger.num_rows) if i != first]), june)

    run_jobs(settings, ("ledger_job", "2025-06-01", None), ("marts_job", None, None))
    assert last_recomputed_from(settings) == {(date(2025, 6, 30),)}
    refreshed = copy_warehouse(settings, tmp_path / "refreshed")
    full_refresh(refreshed)
    assert last_recomputed_from(refreshed) == {(None,)}
    assert rows_differing(settings, refreshed) == dict.fromkeys(LOAN_MONTH_TABLES, 0)
    assert rows_differing(settings, month_by_month)["int_loan_balances__month_end"] > 0  # the re-send did change them


def test_a_changed_register_recomputes_every_month(month_by_month, tmp_path):
    settings = copy_warehouse(month_by_month, tmp_path / "register")
    settings = Settings(data_dir=settings.data_dir, landing_dir=tmp_path / "landing", warehouse_path=settings.warehouse_path)
    shutil.copytree(month_by_month.landing_dir, settings.landing_dir)
    # the borrowers register again, its rows in another order: a new file, so loaded again
    (borrowers,) = settings.landing_dir.glob("borrowers/*/*.csv")
    header, *rows = borrowers.read_text(encoding="utf-8").splitlines()
    borrowers.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")

    run_jobs(settings, ("registers_job", None, None), ("marts_job", None, None))
    assert last_recomputed_from(settings) == {(None,)}
    assert rows_differing(settings, month_by_month) == dict.fromkeys(LOAN_MONTH_TABLES, 0)


def test_a_loan_back_after_its_balance_came_to_zero_is_recomputed_from_its_last_row():
    from dagster_project.incremental import returning_loans_from

    conn = duckdb.connect()
    conn.execute("create table stg_branch__transactions (loan_id varchar, month_end_date date)")
    conn.execute("create table int_loan_balances__month_end (loan_id varchar, as_of_date date)")
    # L1 owes every month; L2 was repaid in January and dropped out; L3 is new in May
    conn.execute("""insert into int_loan_balances__month_end values
        ('L1', '2024-01-31'), ('L1', '2024-02-29'), ('L1', '2024-03-31'), ('L1', '2024-04-30'), ('L2', '2024-01-31')""")
    conn.execute("insert into stg_branch__transactions values ('L1', '2024-05-31'), ('L3', '2024-05-31')")
    assert returning_loans_from(conn, date(2024, 5, 31)) == date(2024, 5, 31)
    conn.execute("insert into stg_branch__transactions values ('L2', '2024-06-30')")
    assert returning_loans_from(conn, date(2024, 5, 31)) == date(2024, 2, 29)
