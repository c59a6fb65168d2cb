"""The Great Expectations suites in expectations/ catch what they promise to catch."""

import json

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.defs import quality_gates
from dagster_project.quality.expectations import (
    EXPECTATIONS_DIR, RuleOutcome, load_suite, record_outcomes, suite_columns, validate_table,
)

pytestmark = pytest.mark.integration


def test_every_suite_is_valid_json_with_named_rules():
    suites = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    assert len(suites) >= 13
    for path in suites:
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["name"] == f"{path.parent.name}.{path.stem}"
        assert all(e["meta"]["rule"] for e in suite["expectations"])


def test_a_register_suite_names_the_rule_the_count_and_the_rows_by_file_line_and_id(tmp_path):
    """Whole-table rules (value rules are row rules of the load): examples name the row by file,
    line and id, show a value only where it is not personal, and say `empty` for a missing one."""
    file = "borrowers/08/borrowers_08.csv"
    borrowers = pd.DataFrame(
        {
            "borrower_id": ["B1", "B2", "B3", "B4"],
            "household_id": ["H1", "H2", "H2", None],
            "full_name": ["Nguyễn Thị Hoa", None, "Lò Văn Páo", "Hoàng Thị Mai"],
            "national_id": ["008190000001"] * 4,
            "phone": ["0912000001", "0912 000 002", None, "0912000004"],
            "source_file": [file] * 4,
            "source_line": [2, 3, 4, 5],
        }
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.borrowers as select * from borrowers")
        outcomes = {o.rule: o for o in validate_table(conn, "raw", "borrowers")}

    assert set(suite_columns(load_suite("raw", "borrowers"))) <= set(borrowers.columns)
    household = outcomes["household_id is unique"]
    assert not household.success and household.unexpected_count == 2
    assert household.describe() == (
        f"FAILED: household_id is unique — 2 rows, e.g. ['{file}:3 borrower_id=B2 household_id=H2', "
        f"'{file}:4 borrower_id=B3 household_id=H2']"
    )
    # personal columns: the row's name only, never the value
    assert outcomes["full_name is present (99 % at least)"].examples == [f"{file}:3 borrower_id=B2"]
    assert outcomes["phone has 10 digits starting 0 (99 % at least)"].examples == [f"{file}:3 borrower_id=B2"]
    assert outcomes["borrower_id is unique"].success
    assert not any("nan" in str(o.examples) for o in outcomes.values())


def test_a_mart_suite_names_its_rows_by_their_grain(tmp_path):
    headlines = pd.DataFrame(
        {
            "as_of_date": pd.to_datetime(["2024-06-30", "2024-06-30"]).date,  # a month is its last day
            "province_code": ["08", "02"],
            "entrusted_share": [0.99, None],
            "outstanding_principal": [4_350_000_000_000, 0],
            "borrowers_with_outstanding": [80_052, 0],
        }
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create table main.mart_province_headlines as select * from headlines")
        outcomes = {o.rule: o for o in validate_table(conn, "main", "mart_province_headlines", suite_folder="marts")}

    assert outcomes["a province with lending has outstanding principal"].examples == [
        "as_of_date=2024-06-30 province_code=02 outstanding_principal=0"
    ]
    assert outcomes["the share lent through the organisations is a share"].success


def test_loan_balance_suite_names_the_loans_that_break_a_rule_and_keeps_the_results(tmp_path):
    balances = pd.DataFrame(
        {
            "loan_id": ["L1", "L1", "L2", "L3"],
            "as_of_date": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-01-31", "2024-01-31"]),
            "current_principal": [10_000_000, 6_000_000, 30_000_000, -1],
            "overdue_principal": [0, 4_000_000, 0, 1],
            "frozen_principal": [0, 0, 0, 0],
            # L1 in February: 6 + 4 ≠ 9 million; L2 owes more than its 20 million disbursed
            "outstanding_principal": [10_000_000, 9_000_000, 30_000_000, 0],
        }
    )
    loans = pd.DataFrame({"loan_id": ["L1", "L2", "L3"], "loan_amount": [10_000_000, 20_000_000, 5_000_000]})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create table main.int_loan_balances__month_end as select * from balances")
        conn.execute("create table main.stg_branch__loans as select * from loans")
        outcomes = validate_table(conn, "main", "int_loan_balances__month_end", suite_folder="marts")
        record_outcomes(conn, "main.int_loan_balances__month_end", outcomes, "run-1", None)
        kept = conn.execute(
            "select rule, passed, unexpected_count, examples from audit.quality_results order by rule"
        ).df()

    by_rule = {o.rule: o for o in outcomes}
    assert by_rule["balance identity: outstanding = current + overdue + frozen at every month-end"].examples == ["L1"]
    assert by_rule["outstanding never exceeds the amount disbursed"].examples == ["L2"]
    assert by_rule["current, overdue and frozen principal are never negative"].examples == ["L3"]
    assert len(kept) == len(outcomes) == 3 and not kept.passed.any()
    assert kept.unexpected_count.tolist() == [1, 1, 1] and json.loads(kept.examples.iloc[0]) in (["L1"], ["L2"], ["L3"])


def test_a_gate_that_stops_without_a_verdict_fails_and_blocks(tmp_path, monkeypatch):
    def exits(*args, **kwargs):
        raise SystemExit(0)  # as pyspark does when imported in a process whose __main__ has no file

    monkeypatch.setattr(quality_gates, "validate_table", exits)

    @dg.asset(key=["raw", "groups"])
    def groups() -> None: ...

    @dg.asset(deps=[groups])
    def downstream() -> None: ...

    gate = quality_gates.build_quality_gate(groups.key, "raw", "raw", "groups")
    result = dg.materialize(
        [groups, gate, downstream], resources={"warehouse": DuckDBResource(database=str(tmp_path / "w.duckdb"))},
        raise_on_error=False,
    )

    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "stopped without a verdict on raw.groups: SystemExit(0)" in failure.event_specific_data.error.message
    assert not result.success and not result.get_asset_check_evaluations()
    assert dg.AssetKey("downstream") not in {m.asset_key for m in result.get_asset_materialization_events()}


def _deposit(month: str, line: int, **changes) -> dict:
    row = {"deposit_id": f"D{month}-{line}", "group_id": "G1", "depositing_members": 20, "amount": 1_500_000,
           "commune_code": "02236", "source_file": f"savings_deposits/08/savings_deposits_08_{month}.csv",
           "source_line": line}
    return row | changes


def test_months_validated_together_fail_only_where_their_rows_broke_a_rule(tmp_path):
    # March: a deposit under 5,000 VND; a deposit id sent in both February and April
    deposits = pd.DataFrame([
        *(_deposit("2024-01", i) for i in range(1, 4)),
        *(_deposit("2024-02", i) for i in range(1, 3)), _deposit("2024-02", 3, deposit_id="D-TWICE"),
        _deposit("2024-03", 1), _deposit("2024-03", 2, amount=4_000),
        _deposit("2024-04", 1, deposit_id="D-TWICE"), _deposit("2024-04", 2),
    ])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.savings_deposits as select * from deposits")
        outcomes = validate_table(conn, "raw", "savings_deposits", ["2024-01", "2024-02", "2024-03", "2024-04"])

    def failed(month: str) -> dict:
        return {o.rule: (o.unexpected_count, o.examples) for o in (o.in_month(month) for o in outcomes) if not o.success}

    unique, least = "deposit_id is unique", "a deposit is at least 5,000 VND"
    assert {o.rule: o.unexpected_count for o in outcomes if not o.success} == {unique: 2, least: 1}  # the range's
    assert failed("2024-01") == {}
    assert failed("2024-02") == {unique: (1, ["savings_deposits/08/savings_deposits_08_2024-02.csv:3 deposit_id=D-TWICE "
                                              "deposit_id=D-TWICE"])}
    assert failed("2024-03") == {least: (1, ["savings_deposits/08/savings_deposits_08_2024-03.csv:2 deposit_id=D2024-03-2 "
                                             "amount=4000"])}
    assert set(failed("2024-04")) == {unique}
    # a rule no row is to blame for (a row count, say) fails every month
    whole_table = RuleOutcome("the table holds 124 rows", "expect_table_row_count_to_equal", False, 0, [])
    assert not whole_table.in_month("2024-01").success
