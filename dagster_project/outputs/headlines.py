"""The headline figures a province reports (docs/domain.md §6): read from the marts, and recomputed
straight from the raw tables with none of the dbt models, so the two can be held side by side."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dagster_project.settings import read_warehouse

# docs/domain.md §6: the reference province (Tuyên Quang, code 08) at mid-2024
REFERENCE_PROVINCE = "08"
PUBLISHED_AS_OF = date(2024, 6, 30)
PUBLISHED = {
    "outstanding_principal": 4_350_000_000_000,
    "entrusted_share": 0.9939,
    "borrowers_with_outstanding": 80_052,
    "groups_with_outstanding": 2_374,
    "local_capital_balance": 111_000_000_000,
    "local_capital_multiple": 280,
}
CAPITAL_BASE_YEAR_END = date(2014, 12, 31)


def _records(relation: duckdb.DuckDBPyConnection) -> list[dict]:
    columns = [d[0] for d in relation.description]
    return [dict(zip(columns, row)) for row in relation.fetchall()]


def headline_figures(warehouse_path: Path, as_of: date, province: str | None = None) -> list[dict]:
    """One dict per province (or the one asked for) at the last month-end on or before `as_of`."""
    with read_warehouse(warehouse_path) as conn:
        return _records(
            conn.execute(
                """
                select * from mart_province_headlines
                where as_of_date = (select max(as_of_date) from mart_province_headlines where as_of_date <= ?)
                  and (? is null or province_code = ? or province_name = ?)
                order by province_code
                """,
                [as_of, province, province, province],
            )
        )


def raw_figures(warehouse_path: Path, as_of: date) -> dict[str, dict]:
    """The same figures by province from raw.loans, raw.transactions and raw.capital_sources: a
    loan's province is its disbursement commune's, through the crosswalk for old communes
    (provinces merged whole in 2025); a capital file's branch code is its province."""
    with read_warehouse(warehouse_path) as conn:
        lending = _records(
            conn.execute(
                """
                with balance as (
                    select loan_id,
                           sum(case when to_bucket is not null then principal_amount else 0 end)
                         - sum(case when from_bucket is not null then principal_amount else 0 end) as outstanding
                    from raw.transactions
                    where transaction_date <= ?
                    group by loan_id
                ),
                loan_province as (
                    select l.loan_id, l.borrower_id, l.group_id,
                        coalesce(direct.province_code, merged.province_code) as province_code
                    from raw.loans l
                    left join raw.admin_units_new direct
                        on direct.commune_code = l.commune_code and l.disbursement_date >= date '2025-07-01'
                    left join raw.admin_unit_crosswalk x
                        on x.old_commune_code = l.commune_code and x.is_default_successor
                            and l.disbursement_date < date '2025-07-01'
                    left join raw.admin_units_new merged on merged.commune_code = x.new_commune_code
                )
                select p.province_code,
                       sum(b.outstanding) as outstanding_principal,
                       sum(b.outstanding) filter (where p.group_id is not null) / sum(b.outstanding) as entrusted_share,
                       count(distinct p.borrower_id) filter (where b.outstanding > 0) as borrowers_with_outstanding,
                       count(distinct p.group_id) filter (where b.outstanding > 0) as groups_with_outstanding
                from balance b join loan_province p using (loan_id)
                group by p.province_code
                """,
                [as_of],
            )
        )
        capital = _records(
            conn.execute(
                """
                select regexp_extract(source_file, '^[^/]+/([^/]+)/', 1) as province_code,
                       sum(amount * case direction when 'in' then 1 else -1 end)
                           filter (where effective_date <= ?) as balance,
                       sum(amount * case direction when 'in' then 1 else -1 end)
                           filter (where effective_date <= ?) as base
                from raw.capital_sources where source = 'local'
                group by 1
                """,
                [as_of, CAPITAL_BASE_YEAR_END],
            )
        )
    figures = {row.pop("province_code"): row for row in lending}
    for row in capital:
        if row["province_code"] in figures:
            figures[row["province_code"]]["local_capital_balance"] = row["balance"]
            figures[row["province_code"]]["local_capital_multiple"] = (
                row["balance"] / row["base"] if row["base"] else None
            )
    return figures
