"""Headline figures computed straight from landing files with DuckDB: the independent reference
the generator's calibration and the marts are checked against."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb


def ledger_relation(landing: Path) -> str:
    files = sorted(p for p in (landing / "transactions").glob("*/*") if p.suffix in (".csv", ".parquet"))
    reader = "read_parquet" if files[0].suffix == ".parquet" else "read_csv_auto"
    return f"{reader}({[str(f) for f in files]!r})"


def headline_figures(landing: Path, as_of: date) -> dict:
    conn = duckdb.connect()
    loans = f"read_csv('{landing}/loans/*/*.csv', header = true, all_varchar = true)"
    capital = f"read_csv('{landing}/capital_sources/*/*.csv', header = true, types = {{'amount': 'BIGINT'}})"
    balances = conn.execute(
        f"""
        with balance as (
            select loan_id,
                   sum(case when to_bucket is not null then principal_amount else 0 end)
                 - sum(case when from_bucket is not null then principal_amount else 0 end) as outstanding
            from {ledger_relation(landing)}
            where transaction_date <= ?
            group by loan_id
        )
        select sum(b.outstanding),
               sum(b.outstanding) filter (where l.group_id is not null),
               count(distinct l.borrower_id) filter (where b.outstanding > 0),
               count(distinct l.group_id) filter (where b.outstanding > 0),
               min(b.outstanding)
        from balance b join {loans} l using (loan_id)
        """,
        [as_of],
    ).fetchone()
    local = conn.execute(
        f"""
        select sum(amount * case direction when 'in' then 1 else -1 end) filter (where effective_date <= ?),
               sum(amount * case direction when 'in' then 1 else -1 end) filter (where effective_date <= ?)
        from {capital} where source = 'local'
        """,
        [as_of, date(2014, 12, 31)],
    ).fetchone()
    return {
        "outstanding_principal": balances[0],
        "entrusted_share": balances[1] / balances[0],
        "borrowers_with_outstanding": balances[2],
        "groups_with_outstanding": balances[3],
        "smallest_loan_balance": balances[4],
        "local_capital_balance": local[0],
        "local_capital_multiple": local[0] / local[1] if local[1] else None,
    }
