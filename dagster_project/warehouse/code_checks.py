"""Whether the warehouse's seeds, and the unit tests' verdict, are those of today's dbt code.

Seeds and dbt unit tests depend on the code alone (the repository's CSV files, hand-made rows), not
on the loaded data: a dbt build that finds them done with the same code leaves them out
(defs/dbt_models.py), so a new month pays only for the models and their data tests. What "done
with this code" means is kept here, in the warehouse beside what it vouches for: the digest is
written after a build that ran them succeeded, and cleared before any build that runs them, so a
build that failed half-way (seeds rewritten, a unit test failed) leaves nothing to trust.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import duckdb

from dagster_project.warehouse.recompute import dbt_code_digest

CODE_CHECKED_TABLE = "audit.dbt_code_checked"


def code_digest(project_root: Path) -> str:
    """Today's dbt code and the dbt that runs it (a new dbt or adapter may load a seed otherwise)."""
    return f"{dbt_code_digest(project_root)} dbt-core {version('dbt-core')} dbt-duckdb {version('dbt-duckdb')}"


def code_checked(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The digest of the code whose seeds and unit tests the last complete build ran, if any."""
    schema, table = CODE_CHECKED_TABLE.split(".")
    if not conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0]:
        return None
    row = conn.execute(f"select code_digest from {CODE_CHECKED_TABLE}").fetchone()
    return row[0] if row else None


def record_code_checked(conn: duckdb.DuckDBPyConnection, digest: str | None) -> None:
    """Say which code the seeds and unit tests were last run with (None: none to trust)."""
    _create_table(conn)
    conn.execute("begin transaction")
    conn.execute(f"delete from {CODE_CHECKED_TABLE}")
    if digest is not None:
        conn.execute(f"insert into {CODE_CHECKED_TABLE} values (?, current_timestamp)", [digest])
    conn.execute("commit")


def _create_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists audit")
    conn.execute(f"create table if not exists {CODE_CHECKED_TABLE} (code_digest varchar, checked_at timestamp)")
