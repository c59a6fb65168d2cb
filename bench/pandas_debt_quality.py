"""The analyst's alternative for a second mart: plain pandas computing `mart_debt_quality`'s
balances, portfolio at risk, K4c debt and write-offs straight from the landing files:

    as_of_date × province × new (2025) commune × program × organisation →
    loans with outstanding / with overdue; current, overdue, frozen and outstanding principal;
    PAR30 / PAR90 principal; K4c frozen principal; principal and interest written off in the
    month and to date

A loan runs from its first ledger month to its last if its movements there add up to nothing, else
to the ledger's last month, over the month-ends the ledger has rows in (int_loan_balances__month_end).
Days past due are first in, first out (int_loan_state__month_end): the loan is as late as its
oldest transfer to overdue not yet settled. The freeze in force is the last one posted up to the
month-end. Not covered (rules from other registers and seeds: schedules, rates, freeze terms,
borrowers): the frozen debt past expiry, left-residence principal, principal due and collected,
interest accrued, collected and unpaid, and the ratios (each a quotient of the amounts compared).
Run: `uv run python -m bench.pandas_debt_quality data/landing`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.pandas_landing import BUCKETS, compare_rows, read_ledger, read_loans

GRAIN = ["as_of_date", "province_code", "new_commune_code", "program_code", "organisation_code"]
COLUMNS = [
    "loans_with_outstanding",
    "loans_with_overdue",
    "current_principal",
    "overdue_principal",
    "frozen_principal",
    "outstanding_principal",
    "par30_principal",
    "par90_principal",
    "k4c_frozen_principal",
    "principal_written_off",
    "interest_written_off",
    "principal_written_off_to_date",
    "interest_written_off_to_date",
]


def loan_months(ledger: pd.DataFrame) -> pd.DataFrame:
    """Loan × month-end balances by bucket, and the month's write-offs, over each loan's span."""
    write_off = ledger.transaction_type == "write_off"
    monthly = (
        ledger.assign(
            principal_written_off=ledger.principal_amount.where(write_off, 0),
            interest_written_off=ledger.interest_amount.where(write_off, 0),
        )
        .groupby(["loan_id", "as_of_date"])[
            [*(f"{b}_movement" for b in BUCKETS), "principal_written_off", "interest_written_off"]
        ]
        .sum()
        .reset_index()
    )
    month_ends = np.sort(monthly.as_of_date.unique())
    position = pd.Series(np.arange(len(month_ends)), index=month_ends)
    loan = monthly.assign(
        month=monthly.as_of_date.map(position),
        owed=monthly[[f"{b}_movement" for b in BUCKETS]].sum(axis=1),
    ).groupby("loan_id")
    # from the loan's first ledger month to its last, or to the ledger's end while it still owes
    span = pd.DataFrame({"first": loan.month.min(), "last": loan.month.max(), "owed": loan.owed.sum()})
    span.loc[span.owed != 0, "last"] = len(month_ends) - 1
    months = span["last"] - span["first"] + 1
    # every month position of every span: its first, then counting up within the span
    starts = np.repeat(span["first"].to_numpy(), months)
    offset = np.arange(months.sum()) - np.repeat(months.cumsum().to_numpy() - months.to_numpy(), months)
    spine = pd.DataFrame(
        {"loan_id": np.repeat(span.index.to_numpy(), months), "as_of_date": month_ends[starts + offset]}
    )
    state = spine.merge(monthly, on=["loan_id", "as_of_date"], how="left").fillna(0)
    for bucket in BUCKETS:
        state[f"{bucket}_principal"] = state.groupby("loan_id")[f"{bucket}_movement"].cumsum().astype("int64")
    state["outstanding_principal"] = state[[f"{b}_principal" for b in BUCKETS]].sum(axis=1)
    return state.astype({"principal_written_off": "int64", "interest_written_off": "int64"})


def days_past_due(ledger: pd.DataFrame, state: pd.DataFrame) -> pd.Series:
    """First in, first out: principal leaving overdue settles the oldest transfer first, so a loan
    is as late as the first transfer whose running total exceeds what was settled by the month-end."""
    transfers = ledger[ledger.to_bucket == "overdue"].sort_values(["loan_id", "transaction_date", "transaction_id"])
    transfers = transfers.assign(to_date=transfers.groupby("loan_id").principal_amount.cumsum())
    late = state[state.overdue_principal > 0].reset_index()
    by_day = transfers.groupby(["loan_id", "transaction_date"]).to_date.max().reset_index()
    late = pd.merge_asof(
        late.sort_values("as_of_date"),
        by_day.rename(columns={"to_date": "by_month_end"}).sort_values("transaction_date"),
        left_on="as_of_date",
        right_on="transaction_date",
        by="loan_id",
    ).drop(columns="transaction_date")
    late["settled"] = late.by_month_end - late.overdue_principal
    late = pd.merge_asof(
        late.sort_values("settled"),
        transfers[["loan_id", "to_date", "transaction_date"]].sort_values("to_date"),
        left_on="settled",
        right_on="to_date",
        by="loan_id",
        direction="forward",
        allow_exact_matches=False,
    )
    days = (late.as_of_date - late.transaction_date).dt.days
    return pd.Series(days.to_numpy(), index=late["index"]).reindex(state.index, fill_value=0)


def freeze_cause(ledger: pd.DataFrame, state: pd.DataFrame) -> pd.Series:
    """The cause of the last freeze posted up to each month-end."""
    freezes = ledger[ledger.transaction_type == "freeze"].sort_values(["loan_id", "transaction_date", "transaction_id"])
    last = freezes.drop_duplicates(["loan_id", "as_of_date"], keep="last")[["loan_id", "as_of_date", "cause_code"]]
    found = pd.merge_asof(
        state[["loan_id", "as_of_date"]].reset_index().sort_values("as_of_date"),
        last.sort_values("as_of_date"),
        on="as_of_date",
        by="loan_id",
    )
    return found.set_index("index").cause_code.reindex(state.index)


def debt_quality(landing: Path) -> pd.DataFrame:
    ledger = read_ledger(Path(landing), extra=("transaction_type", "interest_amount", "cause_code"))
    loans = read_loans(Path(landing), ledger)
    state = loan_months(ledger)
    dpd = days_past_due(ledger, state)
    state = state.assign(
        loans_with_outstanding=(state.outstanding_principal > 0).astype("int64"),
        loans_with_overdue=(state.overdue_principal > 0).astype("int64"),
        par30_principal=state.outstanding_principal.where(dpd > 30, 0),
        par90_principal=state.outstanding_principal.where(dpd > 90, 0),
        k4c_frozen_principal=state.frozen_principal.where(freeze_cause(ledger, state) == "K4c", 0),
    ).merge(loans[["loan_id", *GRAIN[1:]]], on="loan_id")
    cells = state.groupby(GRAIN)[COLUMNS[:-2]].sum().reset_index().sort_values(GRAIN)
    cell = cells.groupby(GRAIN[1:])
    cells["principal_written_off_to_date"] = cell.principal_written_off.cumsum()
    cells["interest_written_off_to_date"] = cell.interest_written_off.cumsum()
    return cells[GRAIN + COLUMNS].reset_index(drop=True)


def compare_with_mart(pandas_result: pd.DataFrame, mart: pd.DataFrame) -> dict:
    """Both give the same counts and amounts at every grain row (a row missing on one side counts as zero)."""
    return compare_rows(pandas_result, mart, GRAIN, COLUMNS)


if __name__ == "__main__":
    started = time.perf_counter()
    result = debt_quality(Path(sys.argv[1] if len(sys.argv) > 1 else "data/landing"))
    latest = result[result.as_of_date == result.as_of_date.max()]
    print(
        f"{len(result):,} rows in {time.perf_counter() - started:.1f} s; at {latest.as_of_date.iloc[0].date()}: "
        f"outstanding {latest.outstanding_principal.sum():,} VND, PAR30 {latest.par30_principal.sum():,} VND"
    )
