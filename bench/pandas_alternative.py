"""The analyst's alternative: plain pandas computing the headline outstanding balance straight
from the landing files, the same figures as `mart_outstanding_balance`:

    as_of_date × province × Transaction Office × new (2025) commune × program × funding source
    × organisation →
    current, overdue, frozen and outstanding principal

A loan's balance in a bucket is the sum of what moved into it minus what moved out (to_bucket /
from_bucket); history is restated on the 2025 communes the way int_loans__new_commune does it
(bench/pandas_landing.py: a group's loans where the group sits, a loan lent directly where its own
latest row after the reorganisation is, else its old commune's default successor). Summing loans
first and accumulating per group afterwards gives the same totals as balances loan by loan.
Run: `uv run python -m bench.pandas_alternative data/landing`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from bench.pandas_landing import BUCKETS, compare_rows, read_ledger, read_loans

GRAIN = [
    "as_of_date",
    "province_code",
    "transaction_office_code",
    "new_commune_code",
    "program_code",
    "funding_source",
    "organisation_code",
]
AMOUNTS = ["current_principal", "overdue_principal", "frozen_principal", "outstanding_principal"]


def outstanding_balance(landing: Path) -> pd.DataFrame:
    ledger = read_ledger(Path(landing))
    loans = read_loans(Path(landing), ledger)
    ledger = ledger.rename(columns={f"{b}_movement": f"{b}_principal" for b in BUCKETS}).merge(
        loans[["loan_id", *GRAIN[1:]]], on="loan_id"
    )
    keys = GRAIN[1:]
    moves = ledger.groupby(GRAIN, dropna=False)[[f"{b}_principal" for b in BUCKETS]].sum()

    # Every month-end of the ledger for every group, then running totals.
    month_ends = pd.Index(sorted(ledger.as_of_date.unique()), name="as_of_date")
    groups = moves.reset_index()[keys].drop_duplicates()
    spine = groups.merge(month_ends.to_frame(index=False), how="cross")
    balances = (
        spine.merge(moves.reset_index(), on=GRAIN, how="left")
        .fillna({f"{b}_principal": 0 for b in BUCKETS})
        .sort_values(GRAIN)
    )
    for bucket in BUCKETS:
        balances[f"{bucket}_principal"] = (
            balances.groupby(keys, dropna=False)[f"{bucket}_principal"].cumsum().astype("int64")
        )
    balances["outstanding_principal"] = balances[[f"{b}_principal" for b in BUCKETS]].sum(axis=1)
    return balances[GRAIN + AMOUNTS].reset_index(drop=True)


def compare_with_mart(pandas_result: pd.DataFrame, mart: pd.DataFrame) -> dict:
    """Both give the same amounts at every grain row (a row missing on one side counts as zero)."""
    return compare_rows(pandas_result, mart, GRAIN, AMOUNTS)


if __name__ == "__main__":
    started = time.perf_counter()
    result = outstanding_balance(Path(sys.argv[1] if len(sys.argv) > 1 else "data/landing"))
    latest = result[result.as_of_date == result.as_of_date.max()]
    print(
        f"{len(result):,} rows in {time.perf_counter() - started:.1f} s; "
        f"outstanding at {latest.as_of_date.iloc[0].date()}: {latest.outstanding_principal.sum():,} VND"
    )
