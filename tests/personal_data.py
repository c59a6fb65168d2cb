"""The personal-data scan: borrowers' personal values (contract personal_columns) must appear nowhere
but in `raw`: not in a model, a published file, an audit table, a log line or a Dagster event."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
from dagster._serdes import serialize_value

from dagster_project.domain.landing_contract import LANDING_SOURCES


def personal_values(conn: duckdb.DuckDBPyConnection) -> set[str]:
    values: set[str] = set()
    for source in LANDING_SOURCES.values():
        for column in source.personal_columns:
            values |= {v for (v,) in conn.execute(f"select distinct {column} from raw.{source.name}").fetchall() if v}
    return values


def audit_texts(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every audit table, as text."""
    tables = [
        t
        for (t,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'audit'"
        ).fetchall()
    ]
    return {f"audit.{t}": conn.execute(f"select * from audit.{t}").df().to_csv(index=False) for t in tables}


def event_text(entry) -> str:
    """A Dagster event log entry as its stored JSON, its text unescaped (names are not ASCII)."""
    return json.dumps(json.loads(serialize_value(entry)), ensure_ascii=False)


def run_history_texts(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Every event of a run as stored: log messages, step failures, check results, metadata."""
    return {f"run {run_id} event {i}": event_text(e) for i, e in enumerate(instance.all_logs(run_id))}


def assert_no_personal_data(personal: set[str], texts: dict[str, str]) -> None:
    assert personal, "nothing to look for"
    for name, text in texts.items():
        found = sorted(v for v in personal if v in text)
        assert not found, f"{name} holds personal data: {found[:3]}"
