"""The headline figures a province reports (domain.md §6), read from the marts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb


def headline_figures(warehouse_path: Path, as_of: date) -> list[dict]:
    """One dict per province at the last month-end on or before `as_of`."""
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        relation = conn.execute(
            """
            select * from mart_province_headlines
            where as_of_date = (select max(as_of_date) from mart_province_headlines where as_of_date <= ?)
            order by province_code
            """,
            [as_of],
        )
        columns = [d[0] for d in relation.description]
        return [dict(zip(columns, row)) for row in relation.fetchall()]
