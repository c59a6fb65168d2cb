"""The dbt project on a tiny hand-made raw layer: `dbt build` (seeds, models, data tests, unit
tests) passes, and the marts equal an independent pandas recomputation from the raw ledger.

The raw tables are written straight into a temporary DuckDB file, typed as in
dagster_project/contract.py (no Dagster, no landing files); the admin-unit tables are the real
ones. The crosswalk picks the communes: S, an old commune split between several new ones (default
successor D, another successor N2), and M, an old commune merged whole into MS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.contract import LANDING_SOURCES, LINEAGE_COLUMNS, REORGANISATION_DATE
from dagster_project.reference.admin_units import commune_crosswalk, new_communes, old_communes

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"


def _communes() -> dict[str, str]:
    crosswalk = commune_crosswalk()
    split = crosswalk[crosswalk.is_split].sort_values(["old_commune_code", "new_commune_code"])
    s = split.old_commune_code.iloc[0]
    successors = split[split.old_commune_code == s]
    merged = crosswalk[~crosswalk.is_split].sort_values("old_commune_code").iloc[0]
    return {
        "S": s,
        "D": successors[successors.is_default_successor].new_commune_code.iloc[0],
        "N2": successors[~successors.is_default_successor].new_commune_code.iloc[0],
        "M": merged.old_commune_code,
        "MS": merged.new_commune_code,
    }


C = _communes()

# loan_id: (borrower_id, group_id, organisation_code, program_code, commune at disbursement, disbursement_date)
LOANS = {
    # active across the reform: its rows after 1 July 2025 carry N2, not S's default successor
    "L_ACROSS": ("B1", "G1", "HPN", "01", C["S"], "2024-01-15"),
    # repaid before the reform in a split commune: default successor D, allocated
    "L_SPLIT_CLOSED": ("B2", "G1", "HPN", "19", C["S"], "2024-02-15"),
    # frozen before the reform, no row since (no interest accrues on frozen debt): D, allocated
    "L_FROZEN": ("B3", "G1", "HPN", "01", C["S"], "2024-03-15"),
    # a commune merged whole
    "L_MERGED": ("B4", "G2", "HND", "01", C["M"], "2024-01-20"),
    # lent directly by the bank: organisation DIRECT
    "L_DIRECT": ("B5", None, None, "12", C["M"], "2024-05-10"),
    # disbursed in error and reversed: never owes anything
    "L_REVERSED": ("B6", "G2", "HND", "01", C["M"], "2024-04-20"),
    # a second loan of B1 in the same cell as L_ACROSS, disbursed after the reform
    "L_NEW": ("B1", "G1", "HPN", "01", C["N2"], "2025-08-15"),
}

# (date, loan, type, principal, interest, from, to); commune codes follow each row's era
LEDGER = [
    ("2024-01-15", "L_ACROSS", "disbursement", 30_000_000, 0, None, "current"),
    ("2024-03-15", "L_ACROSS", "interest_payment", 0, 330_000, None, None),
    ("2025-01-15", "L_ACROSS", "principal_repayment", 10_000_000, 0, "current", None),
    ("2025-08-15", "L_ACROSS", "interest_payment", 0, 220_000, None, None),
    ("2025-09-15", "L_ACROSS", "principal_repayment", 5_000_000, 0, "current", None),
    ("2024-02-15", "L_SPLIT_CLOSED", "disbursement", 20_000_000, 0, None, "current"),
    ("2024-08-15", "L_SPLIT_CLOSED", "principal_repayment", 5_000_000, 0, "current", None),
    ("2024-09-15", "L_SPLIT_CLOSED", "transfer_to_overdue", 5_000_000, 0, "current", "overdue"),
    ("2025-03-15", "L_SPLIT_CLOSED", "principal_repayment", 10_000_000, 0, "current", None),
    ("2025-03-15", "L_SPLIT_CLOSED", "principal_repayment", 5_000_000, 0, "overdue", None),
    ("2024-03-15", "L_FROZEN", "disbursement", 10_000_000, 0, None, "current"),
    ("2024-09-15", "L_FROZEN", "transfer_to_overdue", 2_000_000, 0, "current", "overdue"),
    ("2024-10-15", "L_FROZEN", "freeze", 8_000_000, 0, "current", "frozen"),
    ("2024-10-15", "L_FROZEN", "freeze", 2_000_000, 0, "overdue", "frozen"),
    ("2024-01-20", "L_MERGED", "disbursement", 15_000_000, 0, None, "current"),
    ("2024-06-20", "L_MERGED", "extension", 5_000_000, 0, None, None),
    ("2024-12-20", "L_MERGED", "principal_repayment", 15_000_000, 0, "current", None),
    ("2024-05-10", "L_DIRECT", "disbursement", 100_000_000, 0, None, "current"),
    ("2025-05-10", "L_DIRECT", "write_off", 1_000_000, 50_000, "current", None),
    ("2025-10-10", "L_DIRECT", "interest_payment", 0, 550_000, None, None),
    ("2024-04-20", "L_REVERSED", "disbursement", 8_000_000, 0, None, "current"),
    ("2024-04-22", "L_REVERSED", "disbursement_reversal", 8_000_000, 0, "current", None),
    ("2025-08-15", "L_NEW", "disbursement", 12_000_000, 0, None, "current"),
    ("2025-11-15", "L_NEW", "interest_payment", 0, 66_000, None, None),
]
# No ledger row at all in July 2024: the month-end spine must still carry every balance through it.


def _new_code(loan_id: str) -> str:
    """The loan's commune code in the new era, as the branch system would write it."""
    return {"L_ACROSS": C["N2"], "L_DIRECT": C["MS"], "L_NEW": C["N2"]}[loan_id]


def raw_frames() -> dict[str, pd.DataFrame]:
    """One DataFrame per contract source, every contract column present (None where not needed)."""
    def frame(source: str, rows: list[dict]) -> pd.DataFrame:
        columns = list(LANDING_SOURCES[source].columns)
        out = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
        out["source_file"] = f"{source}/08/{source}_08.csv"
        out["source_line"] = range(2, len(out) + 2)
        return out

    tx = []
    for i, (day, loan, kind, principal, interest, from_bucket, to_bucket) in enumerate(LEDGER, start=1):
        era_old = date.fromisoformat(day) < REORGANISATION_DATE
        tx.append(dict(transaction_id=f"T{i:03d}", transaction_date=day, loan_id=loan, transaction_type=kind,
                       principal_amount=principal, interest_amount=interest, from_bucket=from_bucket,
                       to_bucket=to_bucket, cause_code="K1" if kind in ("freeze", "write_off") else None,
                       frozen_until="2027-10-15" if kind == "freeze" else None,
                       new_due_date="2025-06-20" if kind == "extension" else None,
                       reversed_transaction_id="T021" if kind == "disbursement_reversal" else None,
                       commune_code=LOANS[loan][4] if era_old else _new_code(loan), transaction_point_id="TP1"))
    borrowers = sorted({(b, g) for b, g, *_ in LOANS.values()})
    return {
        "transaction_points": frame("transaction_points", [dict(
            transaction_point_id="TP1", transaction_point_name="Điểm giao dịch xã", transaction_office_code="PGD08-001",
            transaction_office_name="PGD huyện", commune_code=C["S"], transaction_day=15, opened_date="2014-01-01")]),
        "groups": frame("groups", [
            dict(group_id="G1", group_name="Tổ TK&VV thôn 1", village_name="Thôn 1", commune_code=C["S"],
                 transaction_point_id="TP1", organisation_code="HPN", leader_borrower_id="B1",
                 established_date="2014-01-01", member_count=20),
            dict(group_id="G2", group_name="Tổ TK&VV thôn 2", village_name="Thôn 2", commune_code=C["M"],
                 transaction_point_id="TP1", organisation_code="HND", leader_borrower_id="B4",
                 established_date="2014-01-01", member_count=15)]),
        "borrowers": frame("borrowers", [dict(
            borrower_id=b, household_id=f"H{b}", full_name=f"Nguyễn Văn {b}", national_id=f"0081900000{b[1:]:0>2}",
            phone=f"09120000{b[1:]:0>2}", gender="M", birth_year=1980, ethnicity="Tày", category="poor",
            eligibility_year=2023, group_id=g, commune_code=C["S"] if g == "G1" else C["M"], village_name="Thôn 1",
            registered_date="2014-01-01", mobile_banking=True, left_residence=False) for b, g in borrowers]),
        "loans": frame("loans", [dict(
            loan_id=loan, borrower_id=b, group_id=g, organisation_code=o, program_code=p, funding_source="central",
            purpose="production", loan_amount=max(r[3] for r in LEDGER if r[1] == loan and r[2] == "disbursement"),
            disbursement_date=d, annual_rate=6.6, overdue_annual_rate=8.58, term_months=60,
            contract_due_date=str(date.fromisoformat(d).replace(year=int(d[:4]) + 5)), repayment_interval_months=12,
            commune_code=commune, transaction_point_id="TP1") for loan, (b, g, o, p, commune, d) in LOANS.items()]),
        "loan_schedules": frame("loan_schedules", [dict(loan_id="L_ACROSS", instalment_no=1, due_date="2025-01-15",
                                                         principal_due=30_000_000)]),
        "capital_sources": frame("capital_sources", [dict(
            capital_entry_id="C1", effective_date="2014-06-30", source="local", entrusting_unit="province",
            commune_code=None, amount=1_000_000_000, direction="in")]),
        "certified_households": frame("certified_households", [dict(
            certification_year=2023, household_id="HB1", commune_code=C["S"], category="poor")]),
        "demand_survey": frame("demand_survey", [dict(
            survey_date="2025-10-15", commune_code=C["MS"], program_code="01", plan_year=2026, households=10,
            demand_amount=500_000_000, beneficiary_count=10)]),
        "transactions": frame("transactions", tx),
        "savings_deposits": frame("savings_deposits", [dict(
            deposit_id="D1", deposit_date="2024-03-15", group_id="G1", depositing_members=10, amount=100_000,
            commune_code=C["S"], transaction_point_id="TP1")]),
    }


def write_raw(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    """raw.<source> typed as contract.py says, plus the three admin-unit tables."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema if not exists raw")
        for name, admin in (("admin_units_old", old_communes()), ("admin_units_new", new_communes()),
                            ("admin_unit_crosswalk", commune_crosswalk())):
            conn.register("admin_frame", admin)
            conn.execute(f"create or replace table raw.{name} as select * from admin_frame")
            conn.unregister("admin_frame")
        for name, source in LANDING_SOURCES.items():
            columns = {**source.columns, **LINEAGE_COLUMNS}
            conn.execute(f"create or replace table raw.{name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
            conn.register("landed", frames[name].astype(object))
            conn.execute(f"insert into raw.{name} select {', '.join(f'cast({c} as {t})' for c, t in columns.items())} "
                         "from landed")
            conn.unregister("landed")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("dbt_models")
    path = tmp / "warehouse.duckdb"
    write_raw(path, raw_frames())
    # A subprocess, not dbtRunner: dbt-duckdb keeps its connection open for the life of the process,
    # and this process then reads the file. Target and logs go to the temp folder, so the project's
    # own target/ (Dagster's manifest) is left alone.
    dbt = Path(sys.executable).parent / "dbt"
    env = os.environ | {"PCW_WAREHOUSE": str(path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run = subprocess.run(
        [str(dbt), "build", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert set(statuses.values()) <= {"success", "pass"}
    # every kind of node ran: seeds, models, data tests (the singular ones too) and the unit tests
    kinds = {uid.split(".")[0] for uid in statuses}
    assert kinds >= {"seed", "model", "test", "unit_test"}
    assert any("restatement_keeps_every_dong" in uid for uid in statuses)
    assert sum(uid.startswith("unit_test.") for uid in statuses) >= 3
    return path


def query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).df()


def expected_mart() -> pd.DataFrame:
    """The mart recomputed with pandas from the raw ledger and the crosswalk."""
    frames = raw_frames()
    tx, loans = frames["transactions"].copy(), frames["loans"].copy()
    tx["date"] = pd.to_datetime(tx.transaction_date)
    for bucket in ("current", "overdue", "frozen"):
        tx[bucket] = tx.principal_amount.where(tx.to_bucket == bucket, 0) - tx.principal_amount.where(tx.from_bucket == bucket, 0)

    later = tx[tx.date >= pd.Timestamp(REORGANISATION_DATE)].sort_values(["date", "transaction_id"])
    later = later.groupby("loan_id").commune_code.last()
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code")
    loans["new_commune_code"] = loans.loan_id.map(later).fillna(loans.commune_code.map(default.new_commune_code))
    loans["is_allocated"] = ~loans.loan_id.isin(later.index) & loans.commune_code.map(default.is_split).fillna(False)
    loans["organisation_code"] = loans.organisation_code.where(loans.group_id.notna(), "DIRECT")
    names = new_communes().set_index("commune_code")

    rows = []
    month_ends = pd.date_range(tx.date.min(), tx.date.max() + pd.offsets.MonthEnd(0), freq="ME")
    for as_of in month_ends:
        balances = tx[tx.date <= as_of].groupby("loan_id")[["current", "overdue", "frozen"]].sum()
        balances["outstanding"] = balances.sum(axis=1)
        balances = balances[balances.outstanding != 0].join(loans.set_index("loan_id"))
        balances["allocated"] = balances.outstanding.where(balances.is_allocated, 0)
        cells = balances.groupby(["new_commune_code", "program_code", "organisation_code"]).agg(
            current_principal=("current", "sum"), overdue_principal=("overdue", "sum"),
            frozen_principal=("frozen", "sum"), outstanding_principal=("outstanding", "sum"),
            loans_with_outstanding=("outstanding", "size"), borrowers_with_outstanding=("borrower_id", "nunique"),
            allocated_principal=("allocated", "sum"))
        rows.append(cells.reset_index().assign(as_of_date=as_of.date()))
    out = pd.concat(rows, ignore_index=True)
    out["province_code"] = out.new_commune_code.map(names.province_code)
    out["new_commune_name"] = out.new_commune_code.map(names.commune_name)
    return out


KEY = ["as_of_date", "new_commune_code", "program_code", "organisation_code"]
MEASURES = ["current_principal", "overdue_principal", "frozen_principal", "outstanding_principal",
            "loans_with_outstanding", "borrowers_with_outstanding", "allocated_principal"]


def test_the_mart_equals_a_pandas_recomputation_from_the_raw_ledger(warehouse):
    mart = query(warehouse, "select * from mart_outstanding_balance")
    mart["as_of_date"] = pd.to_datetime(mart.as_of_date).dt.date
    expected = expected_mart()
    columns = KEY + ["province_code", "new_commune_name"] + MEASURES
    actual = mart[columns].sort_values(KEY, ignore_index=True)
    expected = expected[columns].sort_values(KEY, ignore_index=True)
    pd.testing.assert_frame_equal(actual.astype({m: "int64" for m in MEASURES}),
                                  expected.astype({m: "int64" for m in MEASURES}), check_dtype=False)
    # the month without any ledger row is there, carrying every balance
    assert date(2024, 7, 31) in set(actual.as_of_date)


def test_a_loan_active_across_the_reform_takes_its_own_later_commune(warehouse):
    [row] = query(warehouse, "select * from int_loans__new_commune where loan_id = 'L_ACROSS'").to_dict("records")
    assert (row["new_commune_code"], row["is_allocated"], row["restatement_rule"]) == (C["N2"], False, "own_later_rows")
    assert C["N2"] != C["D"]  # the rule is visible: the default successor would have been D
    # before the reform too, its balance is reported in N2
    before = query(warehouse, "select outstanding_principal, allocated_principal from mart_outstanding_balance "
                              f"where as_of_date = date '2024-12-31' and new_commune_code = '{C['N2']}'")
    assert before.to_dict("records") == [{"outstanding_principal": 30_000_000, "allocated_principal": 0}]


def test_split_commune_loans_without_later_rows_go_to_the_default_successor_allocated(warehouse):
    loans = query(warehouse, "select loan_id, new_commune_code, is_allocated, restatement_rule from int_loans__new_commune "
                             "where loan_id in ('L_SPLIT_CLOSED', 'L_FROZEN', 'L_MERGED') order by loan_id")
    assert loans.to_dict("records") == [
        {"loan_id": "L_FROZEN", "new_commune_code": C["D"], "is_allocated": True, "restatement_rule": "split_default_successor"},
        {"loan_id": "L_MERGED", "new_commune_code": C["MS"], "is_allocated": False, "restatement_rule": "merged_whole"},
        {"loan_id": "L_SPLIT_CLOSED", "new_commune_code": C["D"], "is_allocated": True, "restatement_rule": "split_default_successor"},
    ]
    # after the reform only the frozen loan is left in D: 10 m frozen, all of it allocated
    [d] = query(warehouse, "select * from mart_outstanding_balance "
                           f"where as_of_date = date '2025-09-30' and new_commune_code = '{C['D']}'").to_dict("records")
    assert (d["frozen_principal"], d["outstanding_principal"], d["allocated_principal"]) == (10_000_000, 10_000_000, 10_000_000)


def test_month_end_states_of_a_loan(warehouse):
    states = query(warehouse, "select as_of_date, current_principal, overdue_principal, frozen_principal, outstanding_principal "
                              "from int_loan_balances__month_end where loan_id = 'L_SPLIT_CLOSED' order by as_of_date")
    by_month = {str(r.as_of_date)[:7]: (r.current_principal, r.overdue_principal, r.frozen_principal, r.outstanding_principal)
                for r in states.itertuples()}
    assert by_month["2024-02"] == (20_000_000, 0, 0, 20_000_000)
    assert by_month["2024-08"] == (15_000_000, 0, 0, 15_000_000)
    assert by_month["2024-09"] == (10_000_000, 5_000_000, 0, 15_000_000)
    assert by_month["2025-03"] == (0, 0, 0, 0)  # repaid: its last row
    assert max(by_month) == "2025-03"
    assert len(by_month) == 14  # every month-end Feb 2024 .. Mar 2025
    reversed_loan = query(warehouse, "select count(*) n, sum(abs(outstanding_principal)) s from int_loan_balances__month_end "
                                     "where loan_id = 'L_REVERSED'").iloc[0]
    assert (reversed_loan.n, reversed_loan.s) == (1, 0)


def test_no_personal_data_past_staging(warehouse):
    columns = query(warehouse, "select table_name, column_name from information_schema.columns "
                               "where table_schema = 'main' and table_name not like 'stg_branch__borrowers'")
    assert not set(columns.column_name) & {"full_name", "national_id", "phone"}
    personal = query(warehouse, "select full_name, national_id, phone from raw.borrowers")
    values = set(personal.full_name) | set(personal.national_id) | set(personal.phone)
    for table in query(warehouse, "select table_name from information_schema.tables where table_schema = 'main' "
                                  "and (table_name like 'int_%' or table_name like 'mart_%')").table_name:
        frame = query(warehouse, f"select * from {table}")
        for column in frame.select_dtypes(include=["object", "string"]).columns:
            assert not set(frame[column].dropna().astype(str)) & values, f"{table}.{column}"
