"""What a build must recompute, and what the last one did.

The loan × month-end models: what the last dbt build recomputed, as dbt worked it out.

The decision lives in dbt (dbt/models/recompute/, dbt/macros/recompute/), so that a `dbt build`
run by hand is as correct as one run by Dagster: every input those models read is fingerprinted
(each loan's and group's attributes, each ledger month as last loaded, the registers they read
whole, the code), and a build recomputes from the first month-end any changed input can reach.
Dagster only reads the answer, to log it and to validate the recomputed month-ends.

The marts as a whole: whether the published marts were built from every load so far with
today's code, so that a build with nothing new skips dbt (build.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

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
    if not _has_table(conn, WINDOW_TABLE):
        return None
    from_month_end, reason = conn.execute(f"select recompute_from, reason from {WINDOW_TABLE}").fetchone()
    return RecomputeWindow(from_month_end, reason)


# What the published marts were last built from, so that a build with nothing new does nothing.
MARTS_BUILDS_TABLE = "audit.marts_builds"
DBT_INPUT_FOLDERS = ("dbt/models", "dbt/macros", "dbt/tests", "seeds")


def dbt_code_digest(project_root: Path) -> str:
    """A digest of every file a dbt build reads from the repository."""
    digest = hashlib.sha256()
    files = sorted(p for folder in DBT_INPUT_FOLDERS for p in (project_root / folder).rglob("*") if p.is_file())
    for path in [*files, project_root / "dbt" / "dbt_project.yml", project_root / "dbt" / "profiles.yml"]:
        digest.update(path.relative_to(project_root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _last_load(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    return conn.execute("select max(finished_at) from audit.load_manifest where outcome = 'loaded'").fetchone()[0]


def record_marts_build(conn: duckdb.DuckDBPyConnection, project_root: Path) -> None:
    """The marts were just built and published from every load so far, with this code."""
    conn.execute(
        f"create table if not exists {MARTS_BUILDS_TABLE} (published_at timestamp, loads_through timestamp, "
        f"code_digest varchar)"
    )
    conn.execute(
        f"insert into {MARTS_BUILDS_TABLE} values (current_timestamp, ?, ?)",
        [_last_load(conn), dbt_code_digest(project_root)],
    )


def marts_up_to_date(conn: duckdb.DuckDBPyConnection, project_root: Path) -> bool:
    """The last published marts were built from every load so far, with the code of today."""
    if not _has_table(conn, MARTS_BUILDS_TABLE) or not _has_table(conn, "audit.load_manifest"):
        return False
    last = conn.execute(
        f"select loads_through, code_digest from {MARTS_BUILDS_TABLE} order by published_at desc limit 1"
    ).fetchone()
    return last is not None and last == (_last_load(conn), dbt_code_digest(project_root))


def _has_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )
