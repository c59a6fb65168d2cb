"""Which month-ends a dbt build recomputes in the loan × month-end models.

Those models, and the marts that sum them month by month, are incremental by as_of_date
(dbt/macros/loan_months_from.sql): given the dbt var `ledger_months_from`, they recompute that
month-end and every later one, each loan carried forward from its row at the month-end before.
The month comes from the warehouse's own records: the first ledger month `audit.load_manifest`
says was loaded since the models' last successful build, which `audit.dbt_model_builds` keeps.
No var, so every month recomputed, when that is not enough to know: the models were never built
here, or a register they read has been loaded since (a register is a whole snapshot, so any
loan's history may have changed). A changed seed, model or admin-unit package needs a full
refresh (the dbt job's `full_refresh` run config).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import duckdb

from dagster_project.contract import LANDING_SOURCES

BUILDS_TABLE = "audit.dbt_model_builds"
LEDGERS = {source.name for source in LANDING_SOURCES.values() if source.monthly}


def incremental_models(manifest: Mapping) -> dict[str, str]:
    """unique_id -> name of the dbt models materialised incrementally."""
    return {
        unique_id: node["name"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }


def upstream_sources(manifest: Mapping, unique_ids: Iterable[str]) -> set[str]:
    """The names of the raw tables (dbt sources) the given nodes read, directly or through others."""
    seen, pending = set(), list(unique_ids)
    while pending:
        for parent in manifest["parent_map"].get(pending.pop(), []):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return {manifest["sources"][s]["name"] for s in seen if s.startswith("source.")}


def month_end(partition_key: str) -> date:
    year, month = int(partition_key[:4]), int(partition_key[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month_end(day: date) -> date:
    return month_end(f"{day.year + day.month // 12:04d}-{day.month % 12 + 1:02d}")


def ledger_months_from(conn: duckdb.DuckDBPyConnection, models: Iterable[str], sources: set[str]) -> date | None:
    """The first month-end the incremental models must recompute, or None for all of them."""
    if not {BUILDS_TABLE, "audit.load_manifest"} <= _audit_tables(conn):
        return None
    built = dict(conn.execute(f"select model, max(started_at) from {BUILDS_TABLE} group by model").fetchall())
    if any(model not in built for model in models):
        return None
    loaded = conn.execute(
        "select distinct source_name, partition_key from audit.load_manifest where outcome = 'loaded' and finished_at >= ?",
        [min(built[model] for model in models)],
    ).fetchall()
    loaded = [(source, key) for source, key in loaded if source in sources]
    if any(source not in LEDGERS for source, _ in loaded):
        return None
    if loaded:
        return returning_loans_from(conn, min(month_end(key) for _, key in loaded))
    # nothing the models read has changed: start after the ledger's last month, so no month is recomputed
    (last,) = conn.execute(
        "select max(partition_key) from audit.load_manifest where source_name in ? and outcome = 'loaded'", [sorted(LEDGERS)]
    ).fetchone()
    return _next_month_end(month_end(last)) if last else None


def returning_loans_from(conn: duckdb.DuckDBPyConnection, from_month: date) -> date:
    """`from_month`, or earlier if a loan the changed months move had dropped out before the
    month-end the models carry forward from (its balance had come back to zero): its months run
    on from its last row, so the recompute starts after that row, not from a zero balance."""
    (last_row,) = conn.execute(
        """
        with moved as (
            select distinct loan_id from main.stg_branch__transactions where month_end_date >= $from_month
        ),
        last_rows as (
            select balances.loan_id, max(balances.as_of_date) as last_month_end
            from main.int_loan_balances__month_end as balances
            inner join moved on moved.loan_id = balances.loan_id
            where balances.as_of_date < $from_month
            group by balances.loan_id
        )
        select min(last_month_end) from last_rows
        where last_month_end < (select max(as_of_date) from main.int_loan_balances__month_end where as_of_date < $from_month)
        """,
        {"from_month": from_month},
    ).fetchone()
    return min(from_month, _next_month_end(last_row)) if last_row else from_month


def record_builds(
    conn: duckdb.DuckDBPyConnection, models: Iterable[str], started_at: datetime, from_month: date | None
) -> None:
    """Record the incremental models a build refreshed: the loads after `started_at` are theirs to pick up next."""
    conn.execute("create schema if not exists audit")
    conn.execute(
        f"create table if not exists {BUILDS_TABLE} (model varchar, started_at timestamp, ledger_months_from date)"
    )
    conn.executemany(
        f"insert into {BUILDS_TABLE} values (?, ?, ?)", [(model, started_at, from_month) for model in models]
    )


def last_recomputed_from(conn: duckdb.DuckDBPyConnection, model: str) -> date | None:
    """The first month-end the model's last build recomputed; None if it recomputed every month
    (or is not incremental)."""
    if BUILDS_TABLE not in _audit_tables(conn):
        return None
    row = conn.execute(
        f"select ledger_months_from from {BUILDS_TABLE} where model = ? order by started_at desc limit 1", [model]
    ).fetchone()
    return row[0] if row else None


def _audit_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables where table_schema = 'audit'"
    ).fetchall()}
