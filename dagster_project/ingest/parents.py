"""Rows admitted by their parents: a loan's transactions and schedules, a group's borrowers, loans
and savings. A row whose parent is quarantined is quarantined as `parent_quarantined`, naming the
parent and why ("loan L1 is quarantined: …"); one whose parent is in no register, as `unknown
<column>` (rules.py, `REFERENCES`).

When a register loads, the rows that name its rows may be admitted differently: a corrected group
brings its loans back, a loan newly quarantined takes its transactions with it. Their files are
then loaded again from the landing folder, through the same load as any other (loader.py,
`readmit_dependants`), so a file ends exactly as if it had first been loaded after the register:
rows read = loaded + quarantined, control totals and the manifest as one load makes them, whatever
order the files came in. A file is *stale* when a row of it sits on the wrong side for its parents
as they now are: this module finds them, the loader loads them again.
"""

from __future__ import annotations

import duckdb

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.ingest.landing import file_month
from dagster_project.ingest.manifest import REGISTER_PARTITION
from dagster_project.ingest.rules import (
    PARENT_QUARANTINED,
    REFERENCES,
    first_broken_reference,
    prepare_parents,
    quarantined_value,
    reference_rules,
)


def stale_files(conn: duckdb.DuckDBPyConnection, source: LandingSource, files: list[str] | None = None) -> list[str]:
    """The files of `source` (of `files`, when given) with a row admitted otherwise than its parents
    now say: loaded though a parent is missing or quarantined, or quarantined for a parent that is
    now loaded or quarantined for another reason."""
    first_broken = first_broken_reference(source)
    if first_broken is None or files == [] or not _exists(conn, f"raw.{source.name}"):
        return []
    prepare_parents(conn)
    within = "and source_file in (select unnest(?::varchar[]))" if files is not None else ""
    params = [files] if files is not None else []
    columns = ", ".join(f'{quarantined_value(r.column)} as "{r.column}"' for r in REFERENCES[source.name])
    parent_rules = [r.name for r in reference_rules(source)]
    stale = conn.execute(
        f"""
        select source_file from raw.{source.name} t where {first_broken} is not null {within}
        union
        select source_file from (
            select source_file, rule, {columns} from raw.quarantine
            where source_name = ? and (rule in (select unnest(?::varchar[])) or starts_with(rule, ?)) {within}
        ) t
        where {first_broken} is distinct from t.rule
        """,
        params + [source.name, parent_rules, PARENT_QUARANTINED] + params,
    ).fetchall()
    return sorted(f for (f,) in stale)


def stale_partitions(conn: duckdb.DuckDBPyConnection, source: LandingSource, keys: list[str]) -> set[str]:
    """Of the partitions `keys` (a register's snapshot, ledger months), those holding a stale file."""
    if not keys or not REFERENCES.get(source.name):
        return set()
    files = [
        f
        for (f,) in conn.execute(
            "select distinct source_file from audit.load_manifest where source_name = ? and "
            "partition_key in (select unnest(?::varchar[]))",
            [source.name, keys],
        ).fetchall()
    ]
    return {file_month(f) if source.monthly else REGISTER_PARTITION for f in stale_files(conn, source, files)}


def _exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
    )
