"""The analyst's alternative: plain pandas computing the headline outstanding balance straight
from the landing files, the same figures as `mart_outstanding_balance`:

    as_of_date × province × Transaction Office × new (2025) commune × program × funding source
    × organisation →
    current, overdue, frozen and outstanding principal

A loan's balance in a bucket is the sum of what moved into it minus what moved out (to_bucket /
from_bucket); history is restated on the 2025 communes the way int_loans__new_commune does it
(the commune of the loan's latest row after the reorganisation, else its old commune's default
successor). Summing loans first and accumulating per group afterwards gives the same totals as
balances loan by loan. Run: `uv run python -m bench.pandas_alternative data/landing`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from dagster_project.domain.landing_contract import REORGANISATION_DATE
from dagster_project.ingest.admin_units import commune_crosswalk, new_communes

BUCKETS = ("current", "overdue", "frozen")
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


def read_ledger(landing: Path) -> pd.DataFrame:
    columns = [
        "transaction_id",
        "transaction_date",
        "loan_id",
        "principal_amount",
        "from_bucket",
        "to_bucket",
        "commune_code",
    ]
    frames = []
    for path in sorted((landing / "transactions").glob("*/*")):
        if path.suffix == ".parquet":
            frames.append(pd.read_parquet(path, columns=columns))
        elif path.suffix == ".csv":
            frames.append(
                pd.read_csv(
                    path, usecols=columns, dtype=str, parse_dates=["transaction_date"], encoding="utf-8-sig"
                ).astype({"principal_amount": "int64"})
            )
    ledger = pd.concat(frames, ignore_index=True)
    ledger["transaction_date"] = pd.to_datetime(ledger.transaction_date)
    return ledger


def read_loans(landing: Path) -> pd.DataFrame:
    columns = [
        "loan_id",
        "program_code",
        "funding_source",
        "organisation_code",
        "disbursement_date",
        "commune_code",
        "transaction_point_id",
    ]
    loans = pd.concat(
        [
            pd.read_csv(p, dtype=str, encoding="utf-8-sig", usecols=columns)
            for p in sorted((landing / "loans").glob("*/*.csv"))
        ],
        ignore_index=True,
    )
    points = pd.concat(
        [
            pd.read_csv(p, dtype=str, encoding="utf-8-sig", usecols=["transaction_point_id", "transaction_office_code"])
            for p in sorted((landing / "transaction_points").glob("*/*.csv"))
        ],
        ignore_index=True,
    )
    return loans.assign(
        transaction_office_code=loans.transaction_point_id.map(
            points.set_index("transaction_point_id").transaction_office_code
        )
    )


def loan_new_communes(ledger: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
    reform = pd.Timestamp(REORGANISATION_DATE)
    after = ledger[ledger.transaction_date >= reform].sort_values(["loan_id", "transaction_date", "transaction_id"])
    latest = after.drop_duplicates("loan_id", keep="last").set_index("loan_id").commune_code
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    disbursed_new = pd.to_datetime(loans.disbursement_date) >= reform
    fallback = loans.commune_code.where(disbursed_new, loans.commune_code.map(default))
    return loans.assign(new_commune_code=loans.loan_id.map(latest).fillna(fallback))


def outstanding_balance(landing: Path) -> pd.DataFrame:
    ledger = read_ledger(Path(landing))
    loans = loan_new_communes(ledger, read_loans(Path(landing)))
    loans["organisation_code"] = loans.organisation_code.fillna("DIRECT")
    provinces = new_communes().set_index("commune_code").province_code

    for bucket in BUCKETS:
        ledger[f"{bucket}_principal"] = ledger.principal_amount.where(
            ledger.to_bucket == bucket, 0
        ) - ledger.principal_amount.where(ledger.from_bucket == bucket, 0)
    ledger["as_of_date"] = ledger.transaction_date + pd.offsets.MonthEnd(0)
    ledger = ledger.merge(
        loans[
            [
                "loan_id",
                "transaction_office_code",
                "new_commune_code",
                "program_code",
                "funding_source",
                "organisation_code",
            ]
        ],
        on="loan_id",
    )
    ledger["province_code"] = ledger.new_commune_code.map(provinces)
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
    keys = GRAIN
    left = pandas_result.assign(as_of_date=pd.to_datetime(pandas_result.as_of_date))
    right = mart[keys + AMOUNTS].assign(as_of_date=pd.to_datetime(mart.as_of_date))
    joined = left.merge(right, on=keys, how="outer", suffixes=("_pandas", "_mart"))
    differing = pd.Series(False, index=joined.index)
    for column in AMOUNTS:
        differing |= joined[f"{column}_pandas"].fillna(0).astype("int64") != joined[f"{column}_mart"].fillna(0).astype(
            "int64"
        )
    return {
        "rows_compared": len(joined),
        "rows_differing": int(differing.sum()),
        "outstanding_total_pandas": int(left.outstanding_principal.sum()),
        "outstanding_total_mart": int(right.outstanding_principal.sum()),
        "agree": bool(not differing.any()),
    }


if __name__ == "__main__":
    started = time.perf_counter()
    result = outstanding_balance(Path(sys.argv[1] if len(sys.argv) > 1 else "data/landing"))
    latest = result[result.as_of_date == result.as_of_date.max()]
    print(
        f"{len(result):,} rows in {time.perf_counter() - started:.1f} s; "
        f"outstanding at {latest.as_of_date.iloc[0].date()}: {latest.outstanding_principal.sum():,} VND"
    )
