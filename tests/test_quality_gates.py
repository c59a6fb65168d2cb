"""The Great Expectations suites in expectations/ catch what they promise to catch."""

import json

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from dagster_project.checks import quality_gates
from dagster_project.checks.expectations import (
    EXPECTATIONS_DIR, RuleOutcome, load_suite, record_outcomes, suite_columns, validate_table,
)


def test_every_suite_is_valid_json_with_named_rules():
    suites = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    assert len(suites) >= 13
    for path in suites:
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["name"] == f"{path.parent.name}.{path.stem}"
        assert all(e["meta"]["rule"] for e in suite["expectations"])


def test_group_suite_names_the_rule_the_count_and_examples(tmp_path):
    groups = pd.DataFrame(
        {
            "group_id": ["G1", "G2", "G3", "G3"],
            "village_name": ["Thôn Làng Ấm", "Thôn Nà Héc", None, "Bản Khuôn Hà"],
            "organisation_code": ["HPN", "HND", "XYZ", "DTN"],
            "member_count": [25, 2, 61, 40],
            "transaction_point_id": ["TP1"] * 4,
            "commune_code": ["02236"] * 4,
        }
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.groups as select * from groups")
        outcomes = {o.rule: o for o in validate_table(conn, "raw", "groups")}

    assert set(suite_columns(load_suite("raw", "groups"))) <= set(groups.columns)
    size = outcomes["a group has 3 to 60 members"]
    # an example names the row by its key, with the value that broke the rule
    assert not size.success and size.unexpected_count == 2
    assert sorted(size.examples) == ["group_id=G2 member_count=2", "group_id=G3 member_count=61"]
    assert outcomes["group_id is unique"].unexpected_count == 2
    assert outcomes["organisation_code is a known code"].examples == ["group_id=G3 organisation_code=XYZ"]
    assert outcomes["village_name is present"].unexpected_count == 1
    assert outcomes["commune_code is a five-digit commune code"].success


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
