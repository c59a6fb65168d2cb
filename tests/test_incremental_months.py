"""The loan × month-end models recompute only the months a change can reach (dbt/models/recompute/),
and give the same rows as a build from all history: a new month appended, an older month re-sent,
a register re-sent unchanged or with a changed row."""

import json
import shutil
from collections import Counter
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dagster_project.definitions import build_definitions
from dagster_project.defs.dbt_models import target_dir
from dagster_project.defs.resources import dbt_project
from dagster_project.outputs.fingerprint import table_fingerprints
from dagster_project.settings import PROJECT_ROOT, Settings
from dagster_project.warehouse.code_checks import code_checked, code_digest, record_code_checked
from dagster_project.warehouse.recompute import last_window
from tests.conftest import SMALL_SAMPLE, build_sample_warehouse
from tests.tiny_landing import rewrite_control

pytestmark = pytest.mark.integration

LOAN_MONTH_TABLES = [
    "int_loan_balances__month_end",
    "int_loan_state__month_end",
    "int_group_months",
    "mart_outstanding_balance",
    "mart_group_outstanding",
    "mart_debt_quality",
    "mart_group_scorecard",
    "mart_province_headlines",
    "mart_mobile_banking",
    "mart_entrustment_fees",
]
LAST_MONTH = "2025-12"


def run_jobs(settings: Settings, *jobs: tuple[str, str | None, dict | None]) -> None:
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        for job, partition, ops_config in jobs:
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance,
                partition_key=partition,
                raise_on_error=False,
                run_config={"ops": ops_config} if ops_config else None,
            )
            assert result.success, f"{job} failed"


def last_recomputed_from(settings: Settings) -> date | None:
    """The first month-end the last build recomputed (None: every month)."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return last_window(conn).from_month_end


def loan_month_tables(settings: Settings) -> dict[str, tuple[int, int]]:
    """Each loan × month-end table's fingerprint (rows, order-free content hash)."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        fingerprints = table_fingerprints(conn)
    return {table: fingerprints[f"main.{table}"] for table in LOAN_MONTH_TABLES}


def copy_warehouse(settings: Settings, folder) -> Settings:
    """The warehouse and its landing files, copied to change them apart."""
    copied = Settings(data_dir=folder, landing_dir=folder / "landing", warehouse_path=folder / "warehouse.duckdb")
    shutil.copytree(settings.landing_dir, copied.landing_dir)
    shutil.copy(settings.warehouse_path, copied.warehouse_path)
    return copied


def full_refresh(settings: Settings) -> None:
    run_jobs(settings, ("marts_job", None, {"dbt_models": {"config": {"full_refresh": True}}}))


@pytest.fixture(scope="module")
def month_by_month(tmp_path_factory) -> Settings:
    """The small sample's warehouse built without its last month, then that month loaded on its own."""
    held_back = tmp_path_factory.mktemp("held_back")

    def hold_back_last_month(settings: Settings) -> None:
        for path in settings.landing_dir.glob(f"*/*/*_{LAST_MONTH}.*"):
            (held_back / path.parent.relative_to(settings.landing_dir)).mkdir(parents=True, exist_ok=True)
            shutil.move(path, held_back / path.relative_to(settings.landing_dir))

    settings, _ = build_sample_warehouse(tmp_path_factory, "pcw_incremental", SMALL_SAMPLE, hold_back_last_month)
    assert last_recomputed_from(settings) is None  # the first build computes every month

    shutil.copytree(held_back, settings.landing_dir, dirs_exist_ok=True)
    run_jobs(settings, ("ledger_job", f"{LAST_MONTH}-01", None), ("marts_job", None, None))
    return settings


def test_a_new_month_recomputes_that_month_only_and_equals_a_build_from_all_history(month_by_month, small_warehouse):
    assert last_recomputed_from(month_by_month) == date(2025, 12, 31)
    assert loan_month_tables(month_by_month) == loan_month_tables(small_warehouse[0])
    with duckdb.connect(str(month_by_month.warehouse_path), read_only=True) as conn:
        gated = conn.execute(
            "select partition_key, bool_and(passed) from audit.quality_results "
            "where guarded_table = 'main.mart_debt_quality' and checked_at = "
            "(select max(checked_at) from audit.quality_results where guarded_table = 'main.mart_debt_quality') "
            "group by partition_key"
        ).fetchall()
    assert gated == [("2025-12-31..", True)]  # the quality gate validated the recomputed month


def test_a_resent_month_recomputes_from_there_on_and_equals_a_full_refresh(month_by_month, tmp_path):
    settings = copy_warehouse(month_by_month, tmp_path / "resent")
    # the June file again, without one principal repayment: every later month of that loan owes more
    (june,) = settings.landing_dir.glob("transactions/*/transactions_*_2025-06.parquet")
    ledger = pq.read_table(june)
    repayments = pc.equal(ledger["transaction_type"], "principal_repayment")
    first = pc.index(repayments, True).as_py()
    pq.write_table(pa.concat_tables([ledger.slice(0, first), ledger.slice(first + 1)]), june)
    rewrite_control(june)

    run_jobs(settings, ("ledger_job", "2025-06-01", None), ("marts_job", None, None))
    assert last_recomputed_from(settings) == date(2025, 6, 30)
    refreshed = copy_warehouse(settings, tmp_path / "refreshed")
    full_refresh(refreshed)
    assert last_recomputed_from(refreshed) is None
    assert loan_month_tables(settings) == loan_month_tables(refreshed)
    # the re-send did change them
    assert (
        loan_month_tables(settings)["int_loan_balances__month_end"]
        != loan_month_tables(month_by_month)["int_loan_balances__month_end"]
    )


def test_a_register_resent_unchanged_recomputes_nothing(month_by_month, tmp_path):
    settings = copy_warehouse(month_by_month, tmp_path / "register")
    # the borrowers register again, its rows in another order: a new file, so loaded again
    (borrowers,) = settings.landing_dir.glob("borrowers/*/*.csv")
    header, *rows = borrowers.read_text(encoding="utf-8").splitlines()
    borrowers.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")
    rewrite_control(borrowers)

    run_jobs(settings, ("registers_job", None, None), ("marts_job", None, None))
    assert last_recomputed_from(settings) == date(2026, 1, 31)  # the month after the last one held
    assert loan_month_tables(settings) == loan_month_tables(month_by_month)


def test_a_changed_register_row_recomputes_its_loans_months_and_equals_a_full_refresh(month_by_month, tmp_path):
    settings = copy_warehouse(month_by_month, tmp_path / "changed_register")
    # one borrower registers for mobile banking: the months of their loans, from the first one's
    (borrowers_file,) = settings.landing_dir.glob("borrowers/*/*.csv")
    borrowers = pd.read_csv(borrowers_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    loans = pd.read_csv(next(settings.landing_dir.glob("loans/*/*.csv")), dtype=str, encoding="utf-8-sig")
    first_loan = loans.groupby("borrower_id").disbursement_date.min()
    candidates = borrowers[
        (borrowers.mobile_banking.str.lower() == "false") & borrowers.borrower_id.isin(first_loan.index)
    ]
    borrower = candidates.borrower_id.iloc[0]
    borrowers.loc[borrowers.borrower_id == borrower, "mobile_banking"] = "true"
    borrowers.to_csv(borrowers_file, index=False, encoding="utf-8-sig")
    rewrite_control(borrowers_file)

    run_jobs(settings, ("registers_job", None, None), ("marts_job", None, None))
    first_month_end = (pd.Timestamp(first_loan[borrower]) + pd.offsets.MonthEnd(0)).date()
    assert last_recomputed_from(settings) == first_month_end
    refreshed = copy_warehouse(settings, tmp_path / "refreshed")
    full_refresh(refreshed)
    assert loan_month_tables(settings) == loan_month_tables(refreshed)
    assert (
        loan_month_tables(settings)["mart_mobile_banking"] != loan_month_tables(month_by_month)["mart_mobile_banking"]
    )


def last_dbt_build(settings: Settings) -> dict[str, int]:
    """The resource types the warehouse's last dbt build ran, counted (its run_results.json)."""
    results = [
        json.loads(path.read_text()) for path in target_dir(dbt_project("duckdb")).glob("dbt_models-*/run_results.json")
    ]
    ours = [r for r in results if r["args"].get("vars", {}).get("warehouse_path") == str(settings.warehouse_path)]
    last = max(ours, key=lambda r: r["metadata"]["generated_at"])
    return dict(Counter(result["unique_id"].split(".")[0] for result in last["results"]))


def test_seeds_and_unit_tests_run_once_per_change_of_the_code(month_by_month, tmp_path):
    settings = copy_warehouse(month_by_month, tmp_path / "code")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        assert code_checked(conn) == code_digest(PROJECT_ROOT)  # the builds before vouch for today's code
    run_jobs(settings, ("marts_job", None, None))
    ran = last_dbt_build(settings)
    assert "seed" not in ran and "unit_test" not in ran and ran["model"] and ran["test"]
    assert loan_month_tables(settings) == loan_month_tables(month_by_month)

    with duckdb.connect(str(settings.warehouse_path)) as conn:
        record_code_checked(conn, "the code of another day")
    run_jobs(settings, ("marts_job", None, None))
    ran = last_dbt_build(settings)
    assert ran["seed"] == len(list((PROJECT_ROOT / "seeds").glob("*.csv"))) and ran["unit_test"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        assert code_checked(conn) == code_digest(PROJECT_ROOT)
