"""Row admission: the SQL that types a load's staged rows and decides, row by row, whether each is
admitted to `raw` or quarantined, and why. Both load paths use it, file by file (loader.py) and a
batch of partitions at once (batch.py), so a row is judged the same whichever path loads it.

The staged table holds the rows as read (every contract column, as text or as the Parquet file
typed it) with `__file` (which file of the load), `__line` (the line the row starts on) and
`__file_month` (the first day of a ledger file's month, null for a register). `check_rows` makes
`landing_checked` from it: the rows typed (values.py), `__rule` the first rule each breaks (the
parse rule, then the row rules of rules.py) or null for a row admitted.
"""

from __future__ import annotations

import duckdb

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.ingest.rules import first_broken_rule
from dagster_project.ingest.values import parse_rule, typed_columns, typed_value

CHECKED = "landing_checked"


def quoted(name: str) -> str:
    """A column name as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def staged_types(conn: duckdb.DuckDBPyConnection, stage: str) -> dict[str, str]:
    return dict(conn.execute(f"select column_name, column_type from (describe {stage})").fetchall())


def check_rows(conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, replaced: list[str]) -> bool:
    """`landing_checked`: the staged rows typed, `__rule` the first rule each breaks (or null).
    Keys are compared typed, as `raw` will hold them (trimmed, NFC, cast): ` L1` repeats `L1`.
    A key already in raw counts unless its file is one of `replaced`. False, and nothing made, when
    a key repeats across two files of the stage: which keeps it is the arrival order's to decide
    (the loader loads such a batch file by file)."""
    types = staged_types(conn, stage)
    key = ", ".join(quoted(k) for k in source.key)
    typed_keys = ", ".join(f"{typed_value(source, k, types)} as {quoted(k)}" for k in source.key)
    # Keys seen more than once: usually none, so the occurrence rank is computed on few rows. Found
    # by grouping their hashes first (integers group much faster than strings); keys that share a
    # hash are then compared as they are.
    conn.execute(
        f"create or replace temp table landing_repeated_keys as select {key}, count(distinct __file) as files "
        f"from (select {typed_keys}, __file from {stage}) where hash({key}) in "
        f"(select hash({key}) from (select {typed_keys} from {stage}) group by 1 having count(*) > 1) "
        f"group by {key} having count(*) > 1"
    )
    try:
        if conn.execute("select count(*) from landing_repeated_keys where files > 1").fetchone()[0]:
            return False
        _make_checked(conn, source, stage, types, replaced)
        return True
    finally:
        conn.execute("drop view if exists landing_typed")
        for table in ("landing_occurrence", "landing_repeated_keys"):
            conn.execute(f"drop table if exists {table}")


def _make_checked(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, types: dict[str, str], replaced: list[str]
) -> None:
    same_key = " and ".join(f"r.{quoted(k)} = t.{quoted(k)}" for k in source.key)
    typed_rows = (
        f"select {typed_columns(source, types)}, __file, __line, __file_month, "
        f"{parse_rule(source, types)} as __cast_rule from {stage}"
    )
    if conn.execute("select count(*) from landing_repeated_keys").fetchone()[0]:
        conn.execute(
            f"""
            create or replace temp table landing_occurrence as
            select t.__file, t.__line,
                   row_number() over (partition by {", ".join(f"t.{quoted(k)}" for k in source.key)} order by t.__line)
                   as occurrence
            from ({typed_rows}) t semi join landing_repeated_keys r on {same_key}
            """
        )
        typed_rows = (
            f"select t.*, coalesce(o.occurrence, 1) as __key_occurrence from ({typed_rows}) t "
            "left join landing_occurrence o on o.__file = t.__file and o.__line = t.__line"
        )
    else:
        typed_rows = f"select *, 1 as __key_occurrence from ({typed_rows})"
    conn.execute(f"create or replace temp view landing_typed as {typed_rows}")
    # The rules' `rule_loaded_keys`: keys already in raw from files that this load does not replace.
    conn.execute(
        f"create or replace temp table rule_loaded_keys as select {', '.join(f't.{quoted(k)}' for k in source.key)} "
        f"from landing_typed t inner join raw.{source.name} r on {same_key} "
        "where r.source_file not in (select unnest(?::varchar[]))",
        [replaced],
    )
    conn.execute(
        f"""
        create or replace temp table {CHECKED} as
        select t.*, coalesce(t.__cast_rule, {first_broken_rule(source)}) as __rule
        from landing_typed t
        """
    )


def raw_row(source: LandingSource, stage_alias: str = "s") -> str:
    """SQL: a staged row as sent, as the JSON text `raw.quarantine.raw_row` keeps."""
    fields = ", ".join(f"{quoted(c)} := {stage_alias}.{quoted(c)}" for c in source.columns)
    return f"cast(to_json(struct_pack({fields})) as varchar)"


def figures_by_file(
    conn: duckdb.DuckDBPyConnection, source: LandingSource
) -> dict[int, tuple[int, int, dict[str, int]]]:
    """For each file of `landing_checked`: rows read, rows admitted and each amount column's sum
    over the rows admitted (the control totals the manifest records)."""
    sums = "".join(f", coalesce(sum({quoted(c)}) filter (where __rule is null), 0)" for c in source.amount_columns)
    return {
        file: (rows_read, rows_loaded, {c: int(v) for c, v in zip(source.amount_columns, totals)})
        for file, rows_read, rows_loaded, *totals in conn.execute(
            f"select __file, count(*), count(*) filter (where __rule is null){sums} from {CHECKED} group by __file"
        ).fetchall()
    }
