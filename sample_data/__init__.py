"""Sample landing files for a real province: deterministic for a seed, vectorised, calibrated on
the reference province's published figures (docs/domain.md §6). See docs/data-contract.md."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.domain.landing_contract import LANDING_SOURCES
from sample_data.config import GenerationConfig
from sample_data.geography import branch_provinces, build_geography, transaction_points_register
from sample_data.households import build_borrowers, build_groups
from sample_data.ledger import BUCKETS, TYPE_ORDER, interest_rows, opening_balances, principal_events, with_balances
from sample_data.loans import build_loans
from sample_data.registers import capital_sources, certified_households, demand_survey, era_codes, savings_deposits
from sample_data.text import code
from sample_data.writer import clear, write_monthly, write_register

__all__ = ["GenerationConfig", "generate"]


def generate(landing_dir: Path, config: GenerationConfig | None = None) -> dict:
    """Write every landing source for the configured province(s), one folder per branch; return the
    branches and row counts.

    A selection within one branch (new province) is generated in one piece. A wider one, up to the
    whole country, is generated branch by branch, as branches export, so memory stays that of the
    largest branch: each from its own random stream, with the branch code in its identifiers."""
    config = config or GenerationConfig()
    branches = branch_provinces(config)
    if len(branches) == 1:
        return _generate_branch(Path(landing_dir), config)
    rows: dict[str, int] = {}
    for branch, provinces in branches.items():
        part = _generate_branch(
            Path(landing_dir),
            replace(config, provinces=provinces, id_prefix=branch, seed=config.seed * 100 + int(branch)),
        )
        rows = {name: rows.get(name, 0) + count for name, count in part["rows"].items()}
    return {"branch_code": ", ".join(branches), "rows": rows}


def _generate_branch(landing_dir: Path, config: GenerationConfig) -> dict:
    rng = np.random.default_rng(config.seed)
    geography = build_geography(config, rng)
    borrowers = build_borrowers(config, geography, rng)
    groups = build_groups(config, geography, borrowers, rng)
    book = build_loans(config, borrowers, groups, geography.communes, rng)

    events = with_balances(principal_events(book, rng))
    events = events[events.date <= np.datetime64(config.end_date)]
    events = with_balances(opening_balances(events, config))
    ledger = pd.concat(
        [events.drop(columns=["current", "overdue", "frozen", "type_order"]), interest_rows(book, events, config)],
        ignore_index=True,
    )

    # The extract holds the loans with a row in the ledger's years.
    kept = np.sort(ledger.loan_index.unique())
    loans = book.loans.set_index("loan_index").loc[kept].reset_index()
    transactions = _transactions(ledger, loans, borrowers, geography, config.id_prefix)
    borrowers = _registered(borrowers, loans, transactions, config)

    branch = geography.branch_code
    for source in LANDING_SOURCES.values():
        clear(landing_dir, source, branch)
    registers = {
        "transaction_points": transaction_points_register(geography),
        "groups": groups,
        "borrowers": borrowers,
        "loans": _loans_register(loans, borrowers, geography),
        "loan_schedules": book.instalments[book.instalments.loan_index.isin(kept)].assign(
            loan_id=lambda f: book.loans.loan_id.to_numpy()[f.loan_index]
        ),
        "capital_sources": capital_sources(config, geography, _outstanding_by_year(events), rng),
        "certified_households": certified_households(config, borrowers, rng),
        "demand_survey": demand_survey(loans, borrowers, rng),
    }
    for name, frame in registers.items():
        write_register(landing_dir, LANDING_SOURCES[name], branch, frame)
    deposits = savings_deposits(config, geography, groups, rng)
    write_monthly(landing_dir, LANDING_SOURCES["transactions"], branch, transactions, config.ledger_format)
    write_monthly(landing_dir, LANDING_SOURCES["savings_deposits"], branch, deposits, config.ledger_format)
    rows = {name: len(frame) for name, frame in registers.items()}
    rows |= {"transactions": len(transactions), "savings_deposits": len(deposits)}
    return {"branch_code": branch, "rows": rows}


def _transactions(
    ledger: pd.DataFrame, loans: pd.DataFrame, borrowers: pd.DataFrame, geography, id_prefix: str
) -> pd.DataFrame:
    ledger = ledger.assign(type_order=pd.Categorical(ledger.transaction_type, TYPE_ORDER).codes)
    ledger = ledger.sort_values(["date", "type_order", "loan_index", "role"], kind="stable", ignore_index=True)
    ledger["transaction_id"] = code("GD" + id_prefix, np.arange(1, len(ledger) + 1), 10)
    # A reversal names the disbursement it cancels.
    reversed_ids = ledger[ledger.role == "reversed"].set_index("loan_index").transaction_id
    is_reversal = (ledger.role == "reversal").to_numpy()
    ledger["reversed_transaction_id"] = None
    ledger.loc[is_reversal, "reversed_transaction_id"] = reversed_ids.reindex(ledger.loan_index[is_reversal]).to_numpy()

    loan_position = pd.Series(np.arange(len(loans)), index=loans.loan_index).reindex(ledger.loan_index).to_numpy()
    borrower = loans.borrower_index.to_numpy()[loan_position]
    commune = loans.commune_index.to_numpy()[loan_position]
    dates = ledger.date.to_numpy().astype("datetime64[D]")
    return pd.DataFrame(
        {
            "transaction_id": ledger.transaction_id,
            "transaction_date": dates,
            "loan_id": loans.loan_id.to_numpy()[loan_position],
            "transaction_type": ledger.transaction_type,
            "principal_amount": ledger.principal_amount.astype(np.int64),
            "interest_amount": ledger.interest_amount.astype(np.int64),
            "from_bucket": BUCKETS[ledger.from_bucket.to_numpy(dtype=int)],
            "to_bucket": BUCKETS[ledger.to_bucket.to_numpy(dtype=int)],
            "cause_code": ledger.cause_code,
            "new_due_date": ledger.new_due_date,
            "frozen_until": ledger.frozen_until,
            "loss_percent": ledger.loss_percent.astype("Int32"),
            "reversed_transaction_id": ledger.reversed_transaction_id,
            "commune_code": era_codes(
                dates, borrowers.old_commune_code.to_numpy()[borrower], borrowers.new_commune_code.to_numpy()[borrower]
            ),
            "transaction_point_id": geography.communes.transaction_point_id.to_numpy()[commune],
        }
    )


def _registered(borrowers: pd.DataFrame, loans: pd.DataFrame, transactions: pd.DataFrame, config) -> pd.DataFrame:
    """A household registers with its first loan; those who left their residence are the K4c freezes."""
    first_loan = loans.groupby("borrower_index").disbursement_date.min()
    fallback = np.datetime64(config.start_date)
    registered = first_loan.reindex(borrowers.index).fillna(pd.Timestamp(fallback)).to_numpy().astype("datetime64[D]")
    k4c_loans = transactions.loc[transactions.cause_code == "K4c", "loan_id"].unique()
    left = loans[loans.loan_id.isin(k4c_loans)].borrower_index.unique()
    eligibility = np.where(
        borrowers.category == "other",
        pd.NA,
        np.maximum(registered.astype("datetime64[Y]").astype(int) + 1970 - 1, config.start_year - 1),
    )
    return borrowers.assign(
        registered_date=registered,
        commune_code=era_codes(
            registered, borrowers.old_commune_code.to_numpy(), borrowers.new_commune_code.to_numpy()
        ),
        left_residence=borrowers.index.isin(left),
        eligibility_year=pd.array(eligibility, dtype="Int64"),
        group_id=np.where(
            borrowers.group_index >= 0, code("TO" + config.id_prefix, borrowers.group_index + 1, 6), None
        ),
        village_name="Thôn " + (borrowers.group_index % 16 + 1).astype(str),
    )


def _loans_register(loans: pd.DataFrame, borrowers: pd.DataFrame, geography) -> pd.DataFrame:
    dates = loans.disbursement_date.to_numpy().astype("datetime64[D]")
    b = loans.borrower_index.to_numpy()
    return loans.assign(
        borrower_id=borrowers.borrower_id.to_numpy()[b],
        commune_code=era_codes(
            dates, borrowers.old_commune_code.to_numpy()[b], borrowers.new_commune_code.to_numpy()[b]
        ),
        transaction_point_id=geography.communes.transaction_point_id.to_numpy()[loans.commune_index],
    )


def _outstanding_by_year(events: pd.DataFrame) -> pd.Series:
    """Outstanding principal at each year end, for the capital the branch needed."""
    delta = np.where(events.to_bucket > 0, events.principal_amount, 0) - np.where(
        events.from_bucket > 0, events.principal_amount, 0
    )
    year = events.date.to_numpy().astype("datetime64[Y]").astype(int) + 1970
    return pd.Series(delta).groupby(year).sum().cumsum()
