"""The landing-file contract (docs/data-contract.md) as data.

One `LandingSource` per folder of the landing root. The generator writes these columns, the
loader reads and types them, and the raw tables carry them plus the two lineage columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Before this day rows carry commune codes of the 63-province scheme; from it on, the 34-province one.
REORGANISATION_DATE = date(2025, 7, 1)

LINEAGE_COLUMNS = {"source_file": "VARCHAR", "source_line": "BIGINT"}


@dataclass(frozen=True)
class LandingSource:
    name: str
    columns: dict[str, str]  # column -> DuckDB type
    key: tuple[str, ...]  # unique key of a row
    monthly: bool = False  # one file a branch and month (a ledger) rather than a register snapshot
    month_date: str | None = None  # a ledger's date column: every row of a file falls in the file's month
    era_date: str | None = None  # the row's own date: decides the era of `commune_code`, never after the load date
    amount_columns: tuple[str, ...] = ()  # summed for control totals
    # added to the contract after branches began exporting: a file without them loads, with nulls
    later_columns: tuple[str, ...] = ()
    # personal data: stays in `raw`, never in a model, an audit table, a log or a Dagster event
    personal_columns: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return self.name


def _source(name, columns, key, **kwargs) -> LandingSource:
    return LandingSource(name=name, columns=columns, key=tuple(key), **kwargs)


TRANSACTION_POINTS = _source(
    "transaction_points",
    {
        "transaction_point_id": "VARCHAR",
        "transaction_point_name": "VARCHAR",
        "transaction_office_code": "VARCHAR",
        "transaction_office_name": "VARCHAR",
        "commune_code": "VARCHAR",
        "transaction_day": "INTEGER",
        "opened_date": "DATE",
    },
    ["transaction_point_id"],
    era_date="opened_date",
)

GROUPS = _source(
    "groups",
    {
        "group_id": "VARCHAR",
        "group_name": "VARCHAR",
        "village_name": "VARCHAR",
        "commune_code": "VARCHAR",
        "transaction_point_id": "VARCHAR",
        "organisation_code": "VARCHAR",
        "leader_borrower_id": "VARCHAR",
        "established_date": "DATE",
        "member_count": "INTEGER",
    },
    ["group_id"],
    era_date="established_date",
)

BORROWERS = _source(
    "borrowers",
    {
        "borrower_id": "VARCHAR",
        "household_id": "VARCHAR",
        "full_name": "VARCHAR",
        "national_id": "VARCHAR",
        "phone": "VARCHAR",
        "gender": "VARCHAR",
        "birth_year": "INTEGER",
        "ethnicity": "VARCHAR",
        "category": "VARCHAR",
        "eligibility_year": "INTEGER",
        "group_id": "VARCHAR",
        "commune_code": "VARCHAR",
        "village_name": "VARCHAR",
        "registered_date": "DATE",
        "mobile_banking": "BOOLEAN",
        "left_residence": "BOOLEAN",
    },
    ["borrower_id"],
    era_date="registered_date",
    personal_columns=("full_name", "national_id", "phone"),
)

LOANS = _source(
    "loans",
    {
        "loan_id": "VARCHAR",
        "borrower_id": "VARCHAR",
        "group_id": "VARCHAR",
        "organisation_code": "VARCHAR",
        "program_code": "VARCHAR",
        "funding_source": "VARCHAR",
        "purpose": "VARCHAR",
        "loan_amount": "BIGINT",
        "disbursement_date": "DATE",
        "annual_rate": "DECIMAL(7,4)",
        "overdue_annual_rate": "DECIMAL(7,4)",
        "term_months": "INTEGER",
        "contract_due_date": "DATE",
        "repayment_interval_months": "INTEGER",
        "commune_code": "VARCHAR",
        "transaction_point_id": "VARCHAR",
    },
    ["loan_id"],
    era_date="disbursement_date",
    amount_columns=("loan_amount",),
)

LOAN_SCHEDULES = _source(
    "loan_schedules",
    {
        "loan_id": "VARCHAR",
        "instalment_no": "INTEGER",
        "due_date": "DATE",
        "principal_due": "BIGINT",
    },
    ["loan_id", "instalment_no"],
    amount_columns=("principal_due",),
)

CAPITAL_SOURCES = _source(
    "capital_sources",
    {
        "capital_entry_id": "VARCHAR",
        "effective_date": "DATE",
        "source": "VARCHAR",
        "entrusting_unit": "VARCHAR",
        "commune_code": "VARCHAR",
        "amount": "BIGINT",
        "direction": "VARCHAR",
    },
    ["capital_entry_id"],
    era_date="effective_date",
    amount_columns=("amount",),
)

CERTIFIED_HOUSEHOLDS = _source(
    "certified_households",
    {
        "certification_year": "INTEGER",
        "household_id": "VARCHAR",
        "commune_code": "VARCHAR",
        "category": "VARCHAR",
    },
    ["certification_year", "household_id"],
)

DEMAND_SURVEY = _source(
    "demand_survey",
    {
        "survey_date": "DATE",
        "commune_code": "VARCHAR",
        "program_code": "VARCHAR",
        "plan_year": "INTEGER",
        "households": "INTEGER",
        "demand_amount": "BIGINT",
        "beneficiary_count": "INTEGER",
    },
    ["commune_code", "program_code", "plan_year"],
    era_date="survey_date",
    amount_columns=("demand_amount",),
)

TRANSACTIONS = _source(
    "transactions",
    {
        "transaction_id": "VARCHAR",
        "transaction_date": "DATE",
        "loan_id": "VARCHAR",
        "transaction_type": "VARCHAR",
        "principal_amount": "BIGINT",
        "interest_amount": "BIGINT",
        "from_bucket": "VARCHAR",
        "to_bucket": "VARCHAR",
        "cause_code": "VARCHAR",
        "new_due_date": "DATE",
        "frozen_until": "DATE",
        "loss_percent": "INTEGER",
        "reversed_transaction_id": "VARCHAR",
        "commune_code": "VARCHAR",
        "transaction_point_id": "VARCHAR",
    },
    ["transaction_id"],
    monthly=True,
    month_date="transaction_date",
    era_date="transaction_date",
    amount_columns=("principal_amount", "interest_amount"),
    later_columns=("loss_percent",),
)

SAVINGS_DEPOSITS = _source(
    "savings_deposits",
    {
        "deposit_id": "VARCHAR",
        "deposit_date": "DATE",
        "group_id": "VARCHAR",
        "depositing_members": "INTEGER",
        "amount": "BIGINT",
        "commune_code": "VARCHAR",
        "transaction_point_id": "VARCHAR",
    },
    ["deposit_id"],
    monthly=True,
    month_date="deposit_date",
    era_date="deposit_date",
    amount_columns=("amount",),
)

LANDING_SOURCES: dict[str, LandingSource] = {
    s.name: s
    for s in (
        TRANSACTION_POINTS,
        GROUPS,
        BORROWERS,
        LOANS,
        LOAN_SCHEDULES,
        CAPITAL_SOURCES,
        CERTIFIED_HOUSEHOLDS,
        DEMAND_SURVEY,
        TRANSACTIONS,
        SAVINGS_DEPOSITS,
    )
}


PERSONAL_COLUMNS = frozenset(c for s in LANDING_SOURCES.values() for c in s.personal_columns)


def landing_file_name(source: LandingSource, branch_code: str, month: str | None = None, ext: str = "csv") -> str:
    """Relative path of a landing file, e.g. `transactions/08/transactions_08_2024-06.parquet`."""
    stem = f"{source.name}_{branch_code}" + (f"_{month}" if source.monthly else "")
    return f"{source.folder}/{branch_code}/{stem}.{ext}"
