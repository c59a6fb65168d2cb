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


def _read(landing: Path, source: str, columns: list[str]) -> pd.DataFrame:
    """Every file of a source, Parquet or CSV (as text: typed by the caller)."""
    frames = []
    for path in sorted((Path(landing) / source).glob("*/*")):
        if path.suffix == ".parquet":
            frames.append(pd.read_parquet(path, columns=columns))
        elif path.suffix == ".csv":
            frames.append(pd.read_csv(path, usecols=columns, dtype=str, encoding="utf-8-sig"))
    return pd.concat(frames, ignore_index=True)


def read_ledger(landing: Path, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every ledger row of the landing folder, amounts as int64, with each row's signed movement
    of every bucket (what moved into it less what moved out)."""
    columns = LEDGER_COLUMNS + list(extra)
    ledger = _read(landing, "transactions", columns)
    ledger = ledger.astype({c: "int64" for c in LEDGER_AMOUNTS if c in columns})
    ledger["transaction_date"] = pd.to_datetime(ledger.transaction_date)
    for bucket in BUCKETS:
        ledger[f"{bucket}_movement"] = ledger.principal_amount.where(
            ledger.to_bucket == bucket, 0
        ) - ledger.principal_amount.where(ledger.from_bucket == bucket, 0)
    ledger["as_of_date"] = ledger.transaction_date + pd.offsets.MonthEnd(0)
    return ledger


def read_loans(landing: Path, ledger: pd.DataFrame) -> pd.DataFrame:
    """Each loan with its Transaction Office, its 2025 commune and province, and 'DIRECT' for a
    loan lent without an organisation."""
    loans = _read(
        landing,
        "loans",
        [
            "loan_id",
            "group_id",
            "program_code",
            "funding_source",
            "organisation_code",
            "disbursement_date",
            "commune_code",
            "transaction_point_id",
        ],
    )
    points = _read(landing, "transaction_points", ["transaction_point_id", "transaction_office_code"])
    loans["transaction_office_code"] = loans.transaction_point_id.map(
        points.set_index("transaction_point_id").transaction_office_code
    )
    loans["organisation_code"] = loans.organisation_code.fillna("DIRECT")
    groups = group_new_communes(landing, ledger, loans)
    own = restated(loans, "loan_id", "disbursement_date", ledger, "transaction_date", "transaction_id")
    loans["new_commune_code"] = loans.group_id.map(groups).fillna(own)
    loans["province_code"] = loans.new_commune_code.map(new_communes().set_index("commune_code").province_code)
    return loans


def restated(registered: pd.DataFrame, key: str, since: str, rows: pd.DataFrame, date: str, row_id: str) -> pd.Series:
    """Where a group or a loan sits on the 2025 map (macros/restated_on_new_commune.sql): the
    commune of its own latest row after the reorganisation, else its registered commune if
    registered since, else the old commune's default successor."""
    reform = pd.Timestamp(REORGANISATION_DATE)
    after = rows[pd.to_datetime(rows[date]) >= reform].sort_values([key, date, row_id])
    latest = after.drop_duplicates(key, keep="last").set_index(key).commune_code
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    registered_new = pd.to_datetime(registered[since]) >= reform
    fallback = registered.commune_code.where(registered_new, registered.commune_code.map(default))
    return registered[key].map(latest).fillna(fallback)


def group_new_communes(landing: Path, ledger: pd.DataFrame, loans: pd.DataFrame) -> pd.Series:
    """Each Savings and Loan Group's 2025 commune (int_groups__new_commune): its rows are its
    savings deposits and its loans' ledger rows, since a village moves whole."""
    groups = _read(landing, "groups", ["group_id", "commune_code", "established_date"])
    deposits = _read(landing, "savings_deposits", ["group_id", "deposit_id", "deposit_date", "commune_code"])
    after = ledger[ledger.transaction_date >= pd.Timestamp(REORGANISATION_DATE)]  # the rows that can place it
    lent = after.merge(loans[loans.group_id.notna()][["loan_id", "group_id"]], on="loan_id")
    rows = pd.concat(
        [
            deposits.rename(columns={"deposit_date": "row_date", "deposit_id": "row_id"}).assign(
                row_date=lambda d: pd.to_datetime(d.row_date)
            ),
            lent.rename(columns={"transaction_date": "row_date", "transaction_id": "row_id"})[
                ["group_id", "row_date", "row_id", "commune_code"]
            ],
        ],
        ignore_index=True,
    )
    return pd.Series(
        restated(groups, "group_id", "established_date", rows, "row_date", "row_id").to_numpy(), index=groups.group_id
    )


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
