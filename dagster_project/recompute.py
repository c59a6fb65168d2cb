"""What the last dbt build recomputed in the loan × month-end models, as dbt worked it out.

The decision lives in dbt (dbt/models/recompute/, dbt/macros/recompute.sql), so that a `dbt build`
run by hand is as correct as one run by Dagster: every input those models read is fingerprinted
(each loan's and group's attributes, each ledger month as last loaded, the registers they read
whole, the code), and a build recomputes from the first month-end any changed input can reach.
Dagster only reads the answer, to log it and to validate the recomputed month-ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

WINDOW_TABLE = "main.int_recompute__window"


@dataclass(frozen=True)
class RecomputeWindow:
    from_month_end: date | None  # None: every month
    reason: str

    def describe(self) -> str:
        months = f"from {self.from_month_end}" if self.from_month_end else "every month"
        return f"loan × month-end models recomputed {months} ({self.reason})"


def last_window(conn: duckdb.DuckDBPyConnection) -> RecomputeWindow | None:
    """The window of the last build, or None before any build."""
    schema, table = WINDOW_TABLE.split(".")
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0]
    if not exists:
        return None
    from_month_end, reason = conn.execute(f"select recompute_from, reason from {WINDOW_TABLE}").fetchone()
    return RecomputeWindow(from_month_end, reason)
