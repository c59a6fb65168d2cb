"""One home per rule (docs/quality.md): every rule a Great Expectations suite gave up is caught by
the home that keeps it. A row rule of the load quarantines the landing row that breaks it; a dbt
test fails the build on a warehouse where one row breaks it."""

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.ingest.rules import rules_for
from tests.dbt_tests import dbt_test_statuses
from tests.tiny_landing import load_all, open_warehouse, write, write_registers

pytestmark = pytest.mark.integration

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt"

# The suites' uniqueness rules on landing keys (left to the load: a second row with a key is quarantined)
SUITE_KEYS = {
    "transaction_points": ("transaction_point_id",),
    "groups": ("group_id",),
    "borrowers": ("borrower_id",),
    "loans": ("loan_id",),
    "loan_schedules": ("loan_id", "instalment_no"),
    "capital_sources": ("capital_entry_id",),
    "certified_households": ("certification_year", "household_id"),
    "demand_survey": ("commune_code", "program_code", "plan_year"),
    "savings_deposits": ("deposit_id",),
}


def test_every_landing_key_a_suite_held_unique_is_a_duplicate_rule_of_the_load():
    for source, key in SUITE_KEYS.items():
        assert LANDING_SOURCES[source].key == key
        names = {r.name for r in rules_for(LANDING_SOURCES[source])}
        assert {
            f"duplicate {' + '.join(key)}: repeated in the file",
            f"duplicate {' + '.join(key)}: already loaded from another file",
        } <= names, source


# rule the raw suites held -> (source, the landing row breaking it, what the load records)
ROW_RULES = {
    "transaction_id is present": ("transactions", {"transaction_id": ""}, "missing key: transaction_id"),
    "transaction_type is a known code": ("transactions", {"transaction_type": "refund"}, "unknown transaction_type"),
    "principal_amount is never negative": (
        "transactions",
        {"principal_amount": "-5"},
        "negative amount: principal_amount",
    ),
    "interest_amount is never negative": (
        "transactions",
        {"interest_amount": "-5"},
        "negative amount: interest_amount",
    ),
    "from_bucket is a known code": (
        "transactions",
        {"transaction_type": "principal_repayment", "principal_amount": "5", "from_bucket": "late"},
        "from_bucket / to_bucket not allowed for the transaction_type",
    ),
    "to_bucket is a known code": (
        "transactions",
        {"transaction_type": "disbursement", "principal_amount": "5", "to_bucket": "late"},
        "from_bucket / to_bucket not allowed for the transaction_type",
    ),
    "cause_code is a known code": (
        "transactions",
        {
            "transaction_type": "freeze",
            "principal_amount": "5",
            "from_bucket": "current",
            "to_bucket": "frozen",
            "frozen_until": "2026-01-01",
            "cause_code": "K9",
        },
        "unknown cause_code",
    ),
    "transactions: commune_code is a five-digit commune code": (
        "transactions",
        {"commune_code": "2200"},
        "unknown commune_code for the era of transaction_date",
    ),
    "savings_deposits: commune_code is a five-digit commune code": (
        "savings_deposits",
        {"commune_code": "2200"},
        "unknown commune_code for the era of deposit_date",
    ),
    "deposit_id is unique": ("savings_deposits", {"deposit_id": "S1"}, "duplicate deposit_id: repeated in the file"),
    "transaction_id is unique (a rule of the load already)": (
        "transactions",
        {"transaction_id": "T1"},
        "duplicate transaction_id: repeated in the file",
    ),
}


def test_each_row_rule_a_raw_suite_gave_up_quarantines_the_row_that_breaks_it(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    broken = {source: [{}] for source, _, _ in ROW_RULES.values()}  # a valid first row, then one row a rule
    for source, row, _ in ROW_RULES.values():
        key = "transaction_id" if source == "transactions" else "deposit_id"
        broken[source].append({key: f"X{len(broken[source])}"} | row)
    for source, rows in broken.items():
        write(landing, source, rows, month="2024-02")
    with open_warehouse(tmp_path / "w.duckdb") as conn:
        load_all(conn, landing)
        quarantined = dict(
            conn.execute("select source_name || ':' || source_line, rule from raw.quarantine").fetchall()
        )

    lines = dict.fromkeys(broken, 2)  # the header is line 1, the valid row line 2
    for rule, (source, _, recorded) in ROW_RULES.items():
        lines[source] += 1
        assert quarantined.get(f"{source}:{lines[source]}", "").startswith(recorded), (rule, quarantined)
    assert len(quarantined) == len(ROW_RULES)  # the valid rows loaded


def nth_latest(table: str, n: int, alias: str | None = None) -> str:
    """SQL: true for the n-th row (from 0) of the table's latest month-end."""
    return (
        f"{alias or table}.rowid = (select rowid from {table} where as_of_date = (select max(as_of_date) from {table}) "
        f"order by rowid limit 1 offset {n})"
    )


BALANCES, DEBT, LOAN_MONTHS = (
    "main.mart_outstanding_balance",
    "main.mart_debt_quality",
    "main.int_loan_balances__month_end",
)
IDENTITY = "outstanding_principal = current_principal + overdue_principal + frozen_principal"


def update(table: str, assignments: str, nth: int) -> str:
    """A statement setting `assignments` on the `nth` row of the table's latest month."""
    return f"update {table} set {assignments} where {nth_latest(table, nth)}"


PAR = "par90_principal <= par30_principal and par30_principal <= outstanding_principal"
WRITE_OFFS = "principal_written_off <= principal_written_off_to_date and k4c_frozen_principal <= frozen_principal"
BUCKETS = "current_principal >= 0 and overdue_principal >= 0 and frozen_principal >= 0"
# dbt test -> a statement that breaks its rule on one row
BREAKS = {
    f"mart_outstanding_balance: {IDENTITY}": update(BALANCES, "outstanding_principal = outstanding_principal + 1", 0),
    "mart_outstanding_balance: borrowers_with_outstanding <= loans_with_outstanding": update(
        BALANCES, "borrowers_with_outstanding = loans_with_outstanding + 1", 1
    ),
    "mart_outstanding_balance.new_commune_code: not_null": update(BALANCES, "new_commune_code = null", 2),
    "allocated_principal_within_outstanding": update(BALANCES, "allocated_principal = outstanding_principal + 1", 3),
    f"mart_debt_quality: {IDENTITY}": update(DEBT, "outstanding_principal = outstanding_principal + 1", 0),
    f"mart_debt_quality: {PAR}": update(DEBT, "par90_principal = par30_principal + 1", 1),
    f"mart_debt_quality: {WRITE_OFFS}": update(DEBT, "k4c_frozen_principal = frozen_principal + 1", 2),
    "mart_debt_quality.new_commune_code: not_null": update(DEBT, "new_commune_code = null", 3),
    f"int_loan_balances__month_end: {IDENTITY}": update(
        LOAN_MONTHS, "outstanding_principal = outstanding_principal + 1", 0
    ),
    f"int_loan_balances__month_end: {BUCKETS}": update(  # the identity holds
        LOAN_MONTHS, "current_principal = -1, overdue_principal = overdue_principal + current_principal + 1", 1
    ),
    "loans_never_owe_more_than_disbursed": (
        f"update {LOAN_MONTHS} as b set current_principal = l.loan_amount + 1, overdue_principal = 0, "
        "frozen_principal = 0, outstanding_principal = l.loan_amount + 1 from main.stg_branch__loans as l "
        f"where l.loan_id = b.loan_id and {nth_latest(LOAN_MONTHS, 2, 'b')}"
    ),
    "one_borrower_a_household": (
        "insert into raw.borrowers by name select * replace ('B-TWIN' as borrower_id) from raw.borrowers limit 1"
    ),
    "stg_admin__new_communes.commune_code: unique": (
        "insert into raw.admin_units_new select * from raw.admin_units_new limit 1"
    ),
    "crosswalk_pairs_once": "insert into raw.admin_unit_crosswalk select * from raw.admin_unit_crosswalk limit 1",
    "eligibility_exceptions_are_few": (  # every checked loan of program 01 an exception
        "insert into main.mart_eligibility_exceptions by name select loan_id, borrower_key, program_code "
        "from main.stg_branch__loans where program_code = '01' "
        "and loan_id not in (select loan_id from main.mart_eligibility_exceptions)"
    ),
}


@pytest.fixture(scope="module")
def broken_warehouse(small_warehouse, tmp_path_factory) -> Path:
    settings, _ = small_warehouse
    copy = tmp_path_factory.mktemp("broken") / "warehouse.duckdb"  # the name dbt's profile gives the catalog
    shutil.copy(settings.warehouse_path, copy)
    with duckdb.connect(str(copy)) as conn:
        # as after a build that computed every month: the incremental models' tests check them all
        conn.execute("update main.int_recompute__window set recompute_from = null")
        for statement in BREAKS.values():
            conn.execute(statement)
    return copy


def test_each_rule_a_suite_gave_up_to_dbt_fails_its_dbt_test(broken_warehouse, tmp_path):
    models = [
        "mart_outstanding_balance",
        "mart_debt_quality",
        "int_loan_balances__month_end",
        "stg_branch__borrowers",
        "stg_admin__new_communes",
        "stg_admin__commune_crosswalk",
        "mart_eligibility_exceptions",
    ]
    statuses = dbt_test_statuses(broken_warehouse, tmp_path / "target", models)
    assert {rule: statuses.get(rule) for rule in BREAKS} == dict.fromkeys(BREAKS, "fail")
