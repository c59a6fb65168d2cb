"""The Great Expectations suites in expectations/ catch what they promise to catch."""

import json
import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.defs import quality_gates
from dagster_project.quality.expectations import (
    EXPECTATIONS_DIR,
    SEEDS_DIR,
    RuleOutcome,
    load_suite,
    record_outcomes,
    seed_values,
    suite_columns,
    validate_frame,
    validate_table,
)

pytestmark = pytest.mark.integration


def test_every_suite_is_valid_json_with_named_rules():
    suites = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    assert len(suites) >= 9
    for path in suites:
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["name"] == f"{path.parent.name}.{path.stem}"
        assert all(e["meta"]["rule"] for e in suite["expectations"])


def test_a_register_suite_names_the_rule_the_count_and_the_rows_by_file_line_and_id(tmp_path):
    """Distribution rules (value rules are row rules of the load): examples name the row by file,
    line and id, never a personal value."""
    file = "borrowers/08/borrowers_08.csv"
    borrowers = pd.DataFrame(
        {
            "borrower_id": ["B1", "B2", "B3", "B4"],
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
    names = outcomes["full_name is present (99 % at least)"]
    assert not names.success and names.unexpected_count == 1
    assert (
        names.describe() == f"FAILED: full_name is present (99 % at least) — 1 rows, e.g. ['{file}:3 borrower_id=B2']"
    )
    # personal columns: the row's name only, never the value
    assert outcomes["phone has 10 digits starting 0 (99 % at least)"].examples == [f"{file}:3 borrower_id=B2"]
    assert outcomes["national_id has 12 digits (99 % at least)"].success
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
        conn.register("headlines", headlines)
        conn.execute("create table main.mart_province_headlines as select * from headlines")
        outcomes = validate_table(conn, "main", "mart_province_headlines", suite_folder="marts")
        record_outcomes(conn, "main.mart_province_headlines", outcomes, "run-1", None)
        kept = conn.execute("select rule, passed, unexpected_count from audit.quality_results order by rule").fetchall()

    assert sorted((o.rule, o.success, o.unexpected_count) for o in outcomes) == kept  # every outcome kept
    outcomes = {o.rule: o for o in outcomes}
    assert outcomes["a province with lending has outstanding principal"].examples == [
        "as_of_date=2024-06-30 province_code=02 outstanding_principal=0"
    ]
    assert outcomes["the share lent through the organisations is a share"].success


def _debt_quality(**changes) -> pd.DataFrame:
    """One valid row of mart_debt_quality, with `changes`."""
    suite = load_suite("marts", "mart_debt_quality")
    row = dict.fromkeys(suite_columns(suite), 0) | {
        "as_of_date": pd.Timestamp("2025-12-31").date(),
        "province_code": "08",
        "new_commune_code": "02215",
        "program_code": "01",
        "organisation_code": "HPN",
    }
    return pd.DataFrame([row | changes])


def validate_debt_quality(tmp_path, frame: pd.DataFrame, seeds_dir=SEEDS_DIR) -> dict[str, RuleOutcome]:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create or replace table main.mart_debt_quality as select * from frame")
        return {
            o.rule: o
            for o in validate_table(conn, "main", "mart_debt_quality", suite_folder="marts", seeds_dir=seeds_dir)
        }


PROGRAM_RULE = "program_code is a program of seeds/programs.csv"
ORGANISATION_RULE = "organisation_code is an organisation of seeds/organisations.csv, or DIRECT"


def test_value_sets_are_the_seeds_codes_and_a_code_added_to_a_seed_is_accepted(tmp_path):
    """A suite names the seed's column (`{"$seed": "programs.program_code"}`), never a copy of its codes."""
    for path in EXPECTATIONS_DIR.glob("*/*.json"):
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            if "value_set" in e["kwargs"] and e["kwargs"]["column"].endswith("_code"):
                assert "$seed" in json.dumps(e["kwargs"]["value_set"]), (path.name, e["meta"]["rule"])
    new_program = _debt_quality(program_code="20")
    assert validate_debt_quality(tmp_path, _debt_quality())[PROGRAM_RULE].success
    refused = validate_debt_quality(tmp_path, new_program)
    assert not refused[PROGRAM_RULE].success and refused[PROGRAM_RULE].examples[0].endswith(" program_code=20")

    seeds = shutil.copytree(SEEDS_DIR, tmp_path / "seeds")
    with (seeds / "programs.csv").open("a", encoding="utf-8") as programs:
        programs.write("20,Cho vay chương trình mới,A new program,households,production\n")
    widened = load_suite("marts", "mart_debt_quality", seeds)
    [value_set] = [e["kwargs"]["value_set"] for e in widened["expectations"] if e["meta"]["rule"] == PROGRAM_RULE]
    assert value_set == [*seed_values(SEEDS_DIR, "programs.program_code"), "20"]
    assert validate_debt_quality(tmp_path, new_program, seeds)[PROGRAM_RULE].success
    # beside a seed's codes, a value set keeps its own: DIRECT lending has no organisation
    assert validate_debt_quality(tmp_path, _debt_quality(organisation_code="DIRECT"))[ORGANISATION_RULE].success
    assert not validate_debt_quality(tmp_path, _debt_quality(organisation_code="HTN"))[ORGANISATION_RULE].success


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
        [groups, gate, downstream],
        resources={"warehouse": DuckDBResource(database=str(tmp_path / "w.duckdb"))},
        raise_on_error=False,
    )

    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "stopped without a verdict on raw.groups: SystemExit(0)" in failure.event_specific_data.error.message
    assert not result.success and not result.get_asset_check_evaluations()
    assert dg.AssetKey("downstream") not in {m.asset_key for m in result.get_asset_materialization_events()}


def _deposit(month: str, line: int, **changes) -> dict:
    row = {
        "deposit_id": f"D{month}-{line}",
        "group_id": "G1",
        "depositing_members": 20,
        "amount": 1_500_000,
        "commune_code": "02236",
        "source_file": f"savings_deposits/08/savings_deposits_08_{month}.csv",
        "source_line": line,
    }
    return row | changes


def test_months_validated_together_fail_only_where_their_rows_broke_a_rule(tmp_path):
    # March: a deposit under 5,000 VND; February and April: a deposit by more members than a group has
    deposits = pd.DataFrame(
        [
            *(_deposit("2024-01", i) for i in range(1, 4)),
            *(_deposit("2024-02", i) for i in range(1, 3)),
            _deposit("2024-02", 3, depositing_members=61),
            _deposit("2024-03", 1),
            _deposit("2024-03", 2, amount=4_000),
            _deposit("2024-04", 1, depositing_members=70),
            _deposit("2024-04", 2),
        ]
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.register("deposits", deposits)
        conn.execute("create table raw.savings_deposits as select * from deposits")
        outcomes = validate_table(conn, "raw", "savings_deposits", ["2024-01", "2024-02", "2024-03", "2024-04"])

    def failed(month: str) -> dict:
        return {
            o.rule: (o.unexpected_count, o.examples) for o in (o.in_month(month) for o in outcomes) if not o.success
        }

    members, least = "depositing_members within [1, 60]", "a deposit is at least 5,000 VND"
    assert {o.rule: o.unexpected_count for o in outcomes if not o.success} == {members: 2, least: 1}
    assert failed("2024-01") == {}
    assert failed("2024-02") == {
        members: (
            1,
            ["savings_deposits/08/savings_deposits_08_2024-02.csv:3 deposit_id=D2024-02-3 depositing_members=61"],
        )
    }
    assert failed("2024-03") == {
        least: (1, ["savings_deposits/08/savings_deposits_08_2024-03.csv:2 deposit_id=D2024-03-2 amount=4000"])
    }
    assert set(failed("2024-04")) == {members}
    # a rule no row is to blame for (a row count, say) fails every month
    whole_table = RuleOutcome("the table holds 124 rows", "expect_table_row_count_to_equal", False, 0, [])
    assert not whole_table.in_month("2024-01").success


def test_the_eligibility_suite_fails_a_loan_checked_against_a_list_not_yet_certified():
    """Lists are certified at year end for the next year: a loan's governing list predates it."""
    suite = load_suite("marts", "mart_eligibility_exceptions")
    day = pd.Timestamp
    frame = pd.DataFrame(
        {
            "loan_id": ["JAN", "SAME_YEAR"],
            "disbursement_date": [day("2025-01-10").date(), day("2025-06-10").date()],
            "list_certified_on": [day("2024-12-31").date(), day("2025-12-31").date()],
        }
    )
    [outcome] = validate_frame(frame, suite, row_column="loan_id")
    assert not outcome.success and outcome.unexpected_count == 1
    assert outcome.examples[0].startswith("SAME_YEAR")
