"""What the plain-pandas scripts share: the landing files read and typed, each loan on its 2025
commune, and the row-by-row comparison of a script's result with its mart."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dagster_project.domain.landing_contract import REORGANISATION_DATE
from dagster_project.ingest.admin_units import commune_crosswalk, new_communes

BUCKETS = ("current", "overdue", "frozen")
LEDGER_COLUMNS = [
    "transaction_id",
    "transaction_date",
    "loan_id",
    "principal_amount",
    "from_bucket",
    "to_bucket",
    "commune_code",
]
LEDGER_AMOUNTS = ("principal_amount", "interest_amount")


def read_ledger(landing: Path, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every ledger row of the landing folder (Parquet or CSV), amounts as int64, with each row's
    signed movement of every bucket (what moved into it less what moved out)."""
    columns = LEDGER_COLUMNS + list(extra)
    frames = []
    for path in sorted((Path(landing) / "transactions").glob("*/*")):
        if path.suffix == ".parquet":
            frames.append(pd.read_parquet(path, columns=columns))
        elif path.suffix == ".csv":
            frame = pd.read_csv(path, usecols=columns, dtype=str, encoding="utf-8-sig")
            frames.append(frame.astype({c: "int64" for c in LEDGER_AMOUNTS if c in columns}))
    ledger = pd.concat(frames, ignore_index=True)
    ledger["transaction_date"] = pd.to_datetime(ledger.transaction_date)
    for bucket in BUCKETS:
        ledger[f"{bucket}_movement"] = ledger.principal_amount.where(
            ledger.to_bucket == bucket, 0
        ) - ledger.principal_amount.where(ledger.from_bucket == bucket, 0)
    ledger["as_of_date"] = ledger.transaction_date + pd.offsets.MonthEnd(0)
    return ledger


def _register(landing: Path, source: str, columns: list[str]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.read_csv(p, dtype=str, encoding="utf-8-sig", usecols=columns)
            for p in sorted((Path(landing) / source).glob("*/*.csv"))
        ],
        ignore_index=True,
    )


def read_loans(landing: Path, ledger: pd.DataFrame) -> pd.DataFrame:
    """Each loan with its Transaction Office, its 2025 commune and province, and 'DIRECT' for a
    loan lent without an organisation."""
    loans = _register(
        landing,
        "loans",
        [
            "loan_id",
            "program_code",
            "funding_source",
            "organisation_code",
            "disbursement_date",
            "commune_code",
            "transaction_point_id",
        ],
    )
    points = _register(landing, "transaction_points", ["transaction_point_id", "transaction_office_code"])
    loans["transaction_office_code"] = loans.transaction_point_id.map(
        points.set_index("transaction_point_id").transaction_office_code
    )
    loans["organisation_code"] = loans.organisation_code.fillna("DIRECT")
    loans = loan_new_communes(ledger, loans)
    loans["province_code"] = loans.new_commune_code.map(new_communes().set_index("commune_code").province_code)
    return loans


def loan_new_communes(ledger: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
    """The commune of the loan's latest row after the reorganisation, else its old commune's
    default successor (int_loans__new_commune)."""
    reform = pd.Timestamp(REORGANISATION_DATE)
    after = ledger[ledger.transaction_date >= reform].sort_values(["loan_id", "transaction_date", "transaction_id"])
    latest = after.drop_duplicates("loan_id", keep="last").set_index("loan_id").commune_code
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    disbursed_new = pd.to_datetime(loans.disbursement_date) >= reform
    fallback = loans.commune_code.where(disbursed_new, loans.commune_code.map(default))
    return loans.assign(new_commune_code=loans.loan_id.map(latest).fillna(fallback))


def compare_rows(pandas_result: pd.DataFrame, mart: pd.DataFrame, grain: list[str], columns: list[str]) -> dict:
    """Both give the same `columns` at every grain row (a row missing on one side counts as zero);
    the outstanding principal each side totals."""
    left = pandas_result[grain + columns].assign(as_of_date=pd.to_datetime(pandas_result.as_of_date))
    right = mart[grain + columns].assign(as_of_date=pd.to_datetime(mart.as_of_date))
    joined = left.merge(right, on=grain, how="outer", suffixes=("_pandas", "_mart"))
    differing = pd.Series(False, index=joined.index)
    for column in columns:
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
