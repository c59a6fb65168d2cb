"""Load landing files into the DuckDB `raw` schema.

Each file is read as text, checked against the contract's columns (a file without them is
rejected whole), typed, and written to `raw.<source>` with its lineage (`source_file`,
`source_line`). A row whose value cannot be typed, or whose key is missing, goes to
`raw.quarantine` with the rule it broke and the raw row, so every row read is either loaded or
quarantined. A source is loaded in one transaction: a failure leaves the tables as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.contract import LINEAGE_COLUMNS, LandingSource

QUARANTINE_COLUMNS = {
    "source_name": "VARCHAR",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "rule": "VARCHAR",
    "raw_row": "VARCHAR",
}


class FileRejected(Exception):
    """A landing file that cannot be loaded at all (wrong columns, unreadable)."""

    def __init__(self, source_file: str, reason: str):
        super().__init__(f"{source_file}: rejected: {reason}")
        self.source_file = source_file
        self.reason = reason


@dataclass
class FileLoad:
    source_file: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    amount_totals: dict[str, int] = field(default_factory=dict)


def landing_files(landing_dir: Path, source: LandingSource) -> list[Path]:
    folder = landing_dir / source.folder
    return sorted(p for p in folder.glob("*/*") if p.suffix in (".csv", ".parquet"))


def _create_table(conn: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str]) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    conn.execute(f"create table if not exists raw.{name} ({cols})")


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> None:
    conn.execute("create schema if not exists raw")
    _create_table(conn, source.name, source.columns | LINEAGE_COLUMNS)
    _create_table(conn, "quarantine", QUARANTINE_COLUMNS)


def _stage_file(conn: duckdb.DuckDBPyConnection, path: Path, source_file: str) -> list[str]:
    """Read a file, all columns as text, into the temp table `landing_stage`; return its columns."""
    if path.suffix == ".parquet":
        reader = "read_parquet(?, file_row_number = true)"
        line = "file_row_number + 1"
    else:
        # DuckDB reads UTF-8 with or without BOM, LF or CRLF. Rows keep file order, so the
        # temp table's rowid gives the line (header = line 1).
        reader = "read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"')"
        line = None
    try:
        if line is None:
            conn.execute(f"create or replace temp table landing_stage as select * from {reader}", [str(path)])
            conn.execute("alter table landing_stage add column __line BIGINT")
            conn.execute("update landing_stage set __line = rowid - (select min(rowid) from landing_stage) + 2")
        else:
            conn.execute(
                f"create or replace temp table landing_stage as select *, {line} as __line from {reader}",
                [str(path)],
            )
    except duckdb.Error as exc:
        raise FileRejected(source_file, f"unreadable: {exc}") from exc
    return [c for c in conn.execute("select * from landing_stage limit 0").fetchdf().columns if c != "__line"]


def _check_columns(source: LandingSource, source_file: str, columns: list[str]) -> None:
    missing = [c for c in source.columns if c not in columns]
    unexpected = [c for c in columns if c not in source.columns and c not in ("file_row_number",)]
    if missing or unexpected:
        raise FileRejected(
            source_file,
            f"columns do not match the contract for '{source.name}': "
            f"missing {missing or 'none'}, unexpected {unexpected or 'none'}",
        )


def _violations_sql(source: LandingSource) -> str:
    """SQL expression naming the first rule a staged row breaks, or null."""
    cases = [f"when \"{k}\" is null or trim(\"{k}\"::varchar) = '' then 'missing key: {k}'" for k in source.key]
    cases += [
        f"when \"{c}\" is not null and trim(\"{c}\"::varchar) <> '' and try_cast(\"{c}\" as {t}) is null "
        f"then 'unparseable {t.lower()}: {c}'"
        for c, t in source.columns.items()
        if t != "VARCHAR"
    ]
    return "case " + " ".join(cases) + " end"


def load_file(conn: duckdb.DuckDBPyConnection, source: LandingSource, path: Path, landing_dir: Path) -> FileLoad:
    source_file = path.relative_to(landing_dir).as_posix()
    columns = _stage_file(conn, path, source_file)
    _check_columns(source, source_file, columns)
    conn.execute(f"alter table landing_stage add column __rule VARCHAR")
    conn.execute(f"update landing_stage set __rule = {_violations_sql(source)}")

    typed = ", ".join(
        f"nullif(trim(\"{c}\"::varchar), '')::{t} as \"{c}\"" for c, t in source.columns.items()
    )
    conn.execute(f"delete from raw.{source.name} where source_file = ?", [source_file])
    conn.execute(
        f"insert into raw.{source.name} select {typed}, ? as source_file, __line as source_line "
        "from landing_stage where __rule is null order by __line",
        [source_file],
    )
    conn.execute("delete from raw.quarantine where source_name = ? and source_file = ?", [source.name, source_file])
    raw_row = "to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in source.columns) + "))::varchar"
    conn.execute(
        f"insert into raw.quarantine select ?, ?, __line, __rule, {raw_row} "
        "from landing_stage where __rule is not null order by __line",
        [source.name, source_file],
    )
    counts = conn.execute(
        "select count(*), count(*) filter (where __rule is null), count(*) filter (where __rule is not null) "
        "from landing_stage"
    ).fetchone()
    totals = {}
    for column in source.amount_columns:
        totals[column] = conn.execute(
            f"select coalesce(sum(\"{column}\"), 0)::bigint from raw.{source.name} where source_file = ?",
            [source_file],
        ).fetchone()[0]
    conn.execute("drop table landing_stage")
    return FileLoad(source_file, counts[0], counts[1], counts[2], totals)


def load_source(conn: duckdb.DuckDBPyConnection, source: LandingSource, landing_dir: Path) -> list[FileLoad]:
    """Load every landing file of a source, all or nothing.

    Files no longer in the landing folder drop out of the table: a register is a snapshot and
    a ledger month is whatever files lie there now.
    """
    files = landing_files(landing_dir, source)
    ensure_raw_tables(conn, source)
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from raw.{source.name}")
        conn.execute("delete from raw.quarantine where source_name = ?", [source.name])
        loads = [load_file(conn, source, path, landing_dir) for path in files]
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return loads
