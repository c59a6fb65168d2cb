"""The arrival-order property: whatever order the landing files arrive in, and whatever builds run
while they do, the warehouse ends as one build from all history. Every dbt table model, every raw
table and every published mart must equal the one-shot build's, row for row.

The sample is two branches with split communes, across the 2025 reorganisation. Its final landing
files also hold a row back-dated into a later month's file (quarantined, the same way in every
schedule) and a loan that comes back after its balance came to zero. Schedules come from seeds
(tests/arrival.py): CI runs CI_SEEDS, which together cover every arrival case; try more with
PCW_ARRIVAL_SEEDS=1,2,3 or a range PCW_ARRIVAL_SEEDS=1-30 (a month-by-month schedule is 12 builds).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.cli.build import build_warehouse
from dagster_project.settings import Settings
from sample_data import GenerationConfig, generate
from tests.arrival import (
    SHAPES,
    LandingVersions,
    arrival_cases,
    arrival_schedule,
    describe,
    differences,
    published_marts,
    report,
    run_schedule,
    warehouse_tables,
)
from tests.tiny_landing import rewrite_control

pytestmark = pytest.mark.integration

# Two branches (old Hà Giang → 08, old Hà Nam → 37), two communes each, all split in 2025.
SAMPLE = GenerationConfig(provinces=("02", "35"), communes=2, start_year=2025, end_year=2025)
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
RETURN_MONTH = "2025-10"  # the month a loan repaid in early 2025 is lent again
BACK_DATED = ("2025-06", "2025-07")  # a June row sent again in the July file, across the reorganisation

# Two schedules that together cover every arrival case (test_the_ci_schedules_cover_every_arrival_case)
# in six builds, chosen so that their last builds recompute only some months: a later build that
# recomputes every month (a register replaced, the first month after the reorganisation) would
# overwrite whatever an incremental one before it got wrong.
#   1741: early registers + 2025-01..06 | final registers + 07 | 10 (the returning loan's month) | 08, 09, 11, 12
#   833:  01..05, 08..10 + early 07 | 06, final 07, 11, 12
CI_SEEDS = (1741, 833)


def arrival_seeds() -> list[int]:
    """PCW_ARRIVAL_SEEDS: "1,2,3" or "1-30"; CI_SEEDS without it."""
    spec = os.environ.get("PCW_ARRIVAL_SEEDS", "").strip()
    if not spec:
        return list(CI_SEEDS)
    seeds = []
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


# --- the final landing files and their earlier versions ----------------------------------------


def _rewrite_parquet(path: Path, change) -> None:
    table = pq.read_table(path)
    pq.write_table(change(table), path)
    rewrite_control(path)


def _append_row(table: pa.Table, row: dict) -> pa.Table:
    return pa.concat_tables([table, pa.Table.from_pylist([row], schema=table.schema)])


def add_a_returning_loan(final: Path) -> str:
    """A group loan repaid in full by April is lent again in RETURN_MONTH, on the day and in the
    commune of its group's last row that month, for no more than its amount less what it owed (it
    never owes more than its amount, whatever months are loaded). Its attributes and its group's
    stay as they were: only the recompute window's returning-loan rule brings its months back."""
    with duckdb.connect() as conn:
        conn.read_csv(str(final / "loans/*/*.csv"), dtype={"loan_amount": "BIGINT"}).create_view("loans")
        loan_id, branch, group_row = conn.execute(
            r"""
            with ledger as (
                select * from read_parquet(?, filename = true)
            ),
            paid_off as (
                select
                    loan_id,
                    regexp_extract(any_value(filename), 'transactions_(\d+)_', 1) as branch,
                    sum(case when from_bucket is null and to_bucket is not null then principal_amount else 0 end)
                        as lent
                from ledger
                group by loan_id
                having sum(case when to_bucket is not null then principal_amount else 0 end)
                     = sum(case when from_bucket is not null then principal_amount else 0 end)
                   and max(transaction_date) < date '2025-04-01'
            ),
            group_rows as (
                select loans.group_id, ledger.*
                from ledger inner join loans using (loan_id)
                where strftime(ledger.transaction_date, '%Y-%m') = ?
                qualify row_number() over (
                    partition by loans.group_id order by transaction_date desc, transaction_id desc
                ) = 1
            )
            select
                paid_off.loan_id,
                paid_off.branch,
                {'transaction_date': group_rows.transaction_date, 'commune_code': group_rows.commune_code,
                 'transaction_point_id': group_rows.transaction_point_id,
                 'principal_amount': (loans.loan_amount - lent) // 1000000 * 1000000}
            from paid_off
            inner join loans using (loan_id)
            inner join group_rows using (group_id)
            where loans.loan_amount - lent >= 1000000
            order by loan_id
            limit 1
            """,
            [str(final / "transactions/*/*.parquet"), RETURN_MONTH],
        ).fetchone()
    (path,) = final.glob(f"transactions/{branch}/*_{RETURN_MONTH}.parquet")
    _rewrite_parquet(
        path,
        lambda ledger: _append_row(
            ledger,
            {
                **dict.fromkeys(ledger.column_names),
                **group_row,
                "transaction_id": f"GD{branch}RETURN01",
                "loan_id": loan_id,
                "transaction_type": "disbursement",
                "interest_amount": 0,
                "to_bucket": "current",
            },
        ),
    )
    return loan_id


def add_a_back_dated_row(final: Path) -> str:
    """An interest payment of BACK_DATED[0] sent again, under a new id, in the BACK_DATED[1] file."""
    early_month, late_month = BACK_DATED
    (june,) = final.glob(f"transactions/37/*_{early_month}.parquet")
    row = next(r for r in pq.read_table(june).to_pylist() if r["transaction_type"] == "interest_payment")
    row["transaction_id"] = "GD37BACKDATED1"
    (july,) = final.glob(f"transactions/37/*_{late_month}.parquet")
    _rewrite_parquet(july, lambda ledger: _append_row(ledger, row))
    return row["transaction_id"]


def _rewrite_csv(source: Path, target: Path, change) -> None:
    """A register with one row changed by `change(row) -> bool` (True once it changed one)."""
    rows = list(csv.DictReader(source.read_text("utf-8-sig").splitlines()))
    assert any(change(row) for row in rows), f"nothing to change in {source}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    rewrite_control(target)


def write_early_registers(final: Path, early: Path) -> None:
    """An earlier snapshot of two registers, each with an attribute the loan-month models read that
    still passes the row rules: a group of another organisation, a loan under another program with
    the same rate and cap (03 for 01)."""

    def other_organisation(group: dict) -> bool:
        group["organisation_code"] = "HND" if group["organisation_code"] != "HND" else "HPN"
        return True

    def other_program(loan: dict) -> bool:
        if loan["program_code"] != "01":
            return False
        loan["program_code"] = "03"
        return True

    for relative, change in (("groups/08/groups_08.csv", other_organisation), ("loans/37/loans_37.csv", other_program)):
        _rewrite_csv(final / relative, early / relative, _first(change))


def _first(change):
    """`change` applied to the first row it accepts only."""
    done = []

    def once(row: dict) -> bool:
        if not done and change(row):
            done.append(row)
            return True
        return False

    return once


def write_early_month(final: Path, early: Path, month: str) -> None:
    """The month's files as first sent: one principal repayment missing, so that its loan owes
    more from that month on until the final version arrives."""
    if any(early.glob(f"*/*/*_{month}.*")):
        return
    dropped = False
    for path in sorted(final.glob(f"*/*/*_{month}.parquet")):
        target = early / path.relative_to(final)
        target.parent.mkdir(parents=True, exist_ok=True)
        ledger = pq.read_table(path)
        types = ledger.column("transaction_type").to_pylist() if "transaction_type" in ledger.column_names else []
        if not dropped and "principal_repayment" in types:
            first = types.index("principal_repayment")
            ledger = pa.concat_tables([ledger.slice(0, first), ledger.slice(first + 1)])
            dropped = True
        pq.write_table(ledger, target)
        rewrite_control(target)
    assert dropped, f"no principal repayment in {month} to leave out"


# --- fixtures ------------------------------------------------------------------------------------


def warehouse_settings(folder: Path) -> Settings:
    # files arrive over time: the first ledger partition is set, as the README advises, not taken
    # from the (still empty) landing folder when the definitions load
    return Settings(
        data_dir=folder,
        landing_dir=folder / "landing",
        warehouse_path=folder / "warehouse.duckdb",
        first_ledger_month=MONTHS[0],
    )


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> LandingVersions:
    """The sample's final landing files, with the returning loan and the back-dated row, and the
    earlier versions some arrive in first."""
    root = tmp_path_factory.mktemp("arrival_files")
    final, early = root / "final", root / "early"
    generate(final, SAMPLE)
    add_a_returning_loan(final)
    add_a_back_dated_row(final)
    write_early_registers(final, early)
    return LandingVersions(final, early, lambda month: write_early_month(final, early, month))


@pytest.fixture(scope="module")
def reference(versions, tmp_path_factory) -> Settings:
    """One build from all history: every final file, then build_warehouse (as `pcw run`)."""
    settings = warehouse_settings(tmp_path_factory.mktemp("arrival_reference"))
    shutil.copytree(versions.final, settings.landing_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        result = build_warehouse(settings, instance)
    assert result.success, "\n".join(result.failures())
    return settings


# --- tests ---------------------------------------------------------------------------------------


def test_the_ci_schedules_cover_every_arrival_case():
    cases = set().union(*(arrival_cases(arrival_schedule(seed, MONTHS)) for seed in CI_SEEDS))
    assert cases == {
        "month by month",
        "reorganisation months after the history",
        "months out of order",
        "month re-sent with changed rows",
        "register snapshot replaced",
    }, "\n".join(f"seed {s}:\n{describe(arrival_schedule(s, MONTHS))}" for s in CI_SEEDS)


def test_the_sample_has_what_the_cases_need(reference):
    """Split communes with loans across the reorganisation, the back-dated row quarantined, the
    returning loan at zero before it is lent again, and marts published."""
    with duckdb.connect(str(reference.warehouse_path), read_only=True) as conn:
        loans_across_split = conn.execute(
            """
            select count(distinct loans.loan_id)
            from raw.loans as loans
            inner join main.stg_admin__commune_crosswalk as crosswalk
                on crosswalk.old_commune_code = loans.commune_code and crosswalk.is_split
            inner join main.int_loan_balances__month_end as june
                on june.loan_id = loans.loan_id and june.as_of_date = date '2025-06-30'
            inner join main.int_loan_balances__month_end as july
                on july.loan_id = loans.loan_id and july.as_of_date = date '2025-07-31'
            """
        ).fetchone()[0]
        quarantined = conn.execute(
            "select source_file, rule from raw.quarantine where raw_row like '%GD37BACKDATED1%'"
        ).fetchall()
        returning = conn.execute(
            """
            select as_of_date, outstanding_principal
            from main.int_loan_balances__month_end
            where loan_id = (select loan_id from raw.transactions where transaction_id like '%RETURN01')
            order by as_of_date
            """
        ).fetchall()
    assert loans_across_split > 100
    [(source_file, rule)] = quarantined
    assert source_file == f"transactions/37/transactions_37_{BACK_DATED[1]}.parquet"
    assert rule.startswith(f"date_outside_file_month: transaction_date {BACK_DATED[0]}-")
    assert rule.endswith(f"is not in the file's month {BACK_DATED[1]}")
    balances = dict(returning)
    return_month_end = max(d for d in balances if d.strftime("%Y-%m") == RETURN_MONTH)
    assert balances[return_month_end] > 0
    assert any(d < return_month_end and owed == 0 for d, owed in balances.items())
    assert len(published_marts(reference)) >= 15
    assert sum(t.startswith("main.mart_") for t in warehouse_tables(reference)) >= 15


@pytest.mark.parametrize("seed", arrival_seeds())
def test_the_warehouse_equals_one_build_from_all_history_whatever_the_arrival_order(
    seed, versions, reference, tmp_path
):
    """The same final files, landed step by step with a build after each: every raw table, dbt
    table model and published mart ends as in the one-shot build."""
    schedule = arrival_schedule(seed, MONTHS)
    settings = warehouse_settings(tmp_path / "warehouse")
    runs = run_schedule(schedule, versions, settings)
    story = f"seed {seed} ({SHAPES[seed % len(SHAPES)]}):\n{report(runs)}"
    print(story)  # with -s: what each build recomputed
    assert len(runs) == len(schedule), f"a load failed\n{story}"
    # While a month is missing the marts are not built over the hole, and the build says which
    # month is missing; nothing else may fail a build.
    wrong = [i for i, run in enumerate(runs, 1) if (run.failures or run.missing) and not run.stopped_for_missing_months]
    assert not wrong, f"marts build failed, or ran over a missing month, at step {wrong}\n{story}"
    assert not runs[-1].failures, story
    mismatches = differences(reference, settings)
    assert not mismatches, f"{story}\nwhat differs from one build from all history:\n" + "\n".join(mismatches)


def test_group_and_balance_marts_agree_commune_by_commune(reference):
    """Groups and the loans lent through them are restated by one rule: at every month-end each new
    commune's group outstanding equals its entrusted outstanding in the balance mart, on a sample
    where a split commune sends some villages (groups) to a successor other than the default."""
    with duckdb.connect(str(reference.warehouse_path), read_only=True) as conn:
        disagreeing = conn.execute("""
            with groups as (
                select as_of_date, new_commune_code, sum(outstanding_principal) as outstanding
                from mart_group_outstanding group by 1, 2
            ), balances as (
                select as_of_date, new_commune_code, sum(outstanding_principal) as outstanding
                from mart_outstanding_balance where organisation_code <> 'DIRECT' group by 1, 2
            )
            select * from groups full outer join balances using (as_of_date, new_commune_code)
            where coalesce(groups.outstanding, 0) <> coalesce(balances.outstanding, 0)
        """).fetchall()
        moved = conn.execute("""
            select count(*) from int_groups__new_commune as g
            inner join stg_branch__groups as r using (group_id)
            inner join stg_admin__commune_crosswalk as x
                on x.old_commune_code = r.commune_code and x.new_commune_code = g.new_commune_code
            where x.is_split and not x.is_default_successor
        """).fetchone()[0]
    assert moved > 0, "no group restated on a successor other than the default: the agreement proves little"
    assert disagreeing == []
