"""The fast path of a load: every changed partition of a batch (a backfill's months) read in one
scan, typed and checked set-based, and written in one transaction.

Same outcome as loading the partitions one by one (loader.py) when the batch is clean: every
file readable with the contract's columns (integer amounts in Parquet, one line a row in CSV) and
no key repeated across two of its files. Otherwise `load_batch` changes nothing and returns
False, and the loader goes partition by partition, which rejects the bad files, numbers the lines
of multi-line rows and lets the first file to arrive keep a repeated key.
One transaction for the batch keeps each partition all or nothing (and the batch with it); the
checkpoint comes once, after the commit, instead of once a month.
"""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.ingest.control import BadControlFile, disagreement, figures_sql, read_control
from dagster_project.ingest.rules import first_broken_rule, prepare_reference
from dagster_project.ingest.values import fractional_columns, parse_rule, typed_columns, typed_value

STAGE = "landing_batch"


def load_batch(conn: duckdb.DuckDBPyConnection, source: LandingSource, changed: list, history, started) -> bool:
    from dagster_project.ingest.loader import _csv_header, _physical_lines, _record, FileRejected

    files = [(load, path) for partition, paths in changed for load, path in zip(partition.files, paths)]
    if not files or any(not partition.files for partition, _ in changed):
        return False
    paths = [path for _, path in files]
    suffixes = {p.suffix for p in paths}
    if len(suffixes) != 1:
        return False
    try:
        if suffixes == {".parquet"}:
            schemas = [pq.read_schema(p) for p in paths]
            # A file with other columns, or with amounts that are not integers, is rejected on the
            # slow path. Each file is checked: DuckDB would cast all of them to the first one's types.
            if any(s.names != list(source.columns) or fractional_columns(source, s) for s in schemas):
                return False
            relation = "read_parquet(?, filename = true, file_row_number = true)"
            line = "file_row_number + 1"
        else:
            if any(_csv_header(p, str(p)) != list(source.columns) for p in paths):
                return False
            relation = ("read_csv(?, header = true, columns = $columns, auto_detect = false, delim = ',', "
                        "quote = '\"', escape = '\"', encoding = 'utf-8', filename = true)")
            line = None
    except (OSError, FileRejected, Exception):
        return False

    names = list(source.columns)
    quoted = ", ".join(f'"{c}"' for c in names)
    try:
        conn.execute("create or replace temp table landing_batch_files "
                     "(path varchar, source_file varchar, file_order integer, file_month date)")
        conn.executemany("insert into landing_batch_files values (?, ?, ?, ?)",
                         [[str(p), load.source_file, i, load.month_start] for i, (load, p) in enumerate(files)])
        if line:
            conn.execute(
                f"create or replace temp table {STAGE} as select {quoted}, f.file_order as __file, {line} as __line, "
                "f.file_month as __file_month "
                f"from {relation} s join landing_batch_files f on f.path = s.filename",
                [[str(p) for p in paths]],
            )
        else:
            # CSV rows keep file order: the rank within its file + 1 is the line (the header is line 1).
            conn.execute(
                f"create or replace temp table {STAGE} as select {quoted}, f.file_order as __file, "
                "row_number() over (partition by s.filename order by s.rowid) + 1 as __line, f.file_month as __file_month "
                f"from (select *, row_number() over () as rowid from {relation.replace('$columns', '?')}) s "
                "join landing_batch_files f on f.path = s.filename",
                [[str(p) for p in paths], {c: "VARCHAR" for c in names}],
            )
    except duckdb.Error:
        conn.execute(f"drop table if exists {STAGE}")
        return False
    per_file = dict(conn.execute(f"select __file, count(*) from {STAGE} group by 1").fetchall())
    # An empty file is rejected on the slow path, which also numbers the lines of a CSV file whose
    # rows are not one a line (a quoted line break, a blank line).
    if len(per_file) != len(files) or (line is None and any(
            per_file[i] != _physical_lines(path) - 1 for i, (_, path) in enumerate(files))):
        conn.execute(f"drop table {STAGE}")
        return False
    if not _agree_with_controls(conn, source, files):
        conn.execute(f"drop table {STAGE}")
        return False

    replaced = sorted({load.source_file for load, _ in files if load.source_file in history.loaded_files}
                      | {f for partition, _ in changed for f in history.gone(partition)})
    prepare_reference(conn)
    try:
        if not _type_and_check(conn, source, replaced):
            return False
        _write(conn, source, files, replaced, changed, started, _record)
        return True
    finally:
        conn.execute("drop view if exists landing_typed")
        for table in (STAGE, "landing_occurrence", "landing_checked", "landing_batch_files", "landing_repeated_keys"):
            conn.execute(f"drop table if exists {table}")


def _agree_with_controls(conn: duckdb.DuckDBPyConnection, source: LandingSource, files: list) -> bool:
    """Every staged file that has a control file agrees with it; False otherwise, and the
    file-by-file path rejects the file that does not, naming the figures."""
    staged_types = dict(conn.execute(f"select column_name, column_type from (describe {STAGE})").fetchall())
    figures = {row[0]: row[1:] for row in conn.execute(
        f"select __file, {figures_sql(source, staged_types)} from {STAGE} group by __file").fetchall()}
    for index, (load, path) in enumerate(files):
        try:
            control = read_control(path, source)
        except BadControlFile:
            return False
        if control is None:
            continue
        rows, *sums = figures[index]
        if disagreement(control, "", rows, dict(zip(source.amount_columns, sums)), path.stat().st_size):
            return False
    return True


def _type_and_check(conn: duckdb.DuckDBPyConnection, source: LandingSource, replaced: list[str]) -> bool:
    """`landing_checked`: the batch typed, `__rule` the first rule a row breaks; False when a key
    repeats across two files of the batch (the slow path decides which one keeps it)."""
    staged_types = dict(conn.execute(f"select column_name, column_type from (describe {STAGE})").fetchall())
    key = ", ".join(f'"{k}"' for k in source.key)
    typed_keys = ", ".join(f'{typed_value(source, k, staged_types)} as "{k}"' for k in source.key)
    # Keys seen more than once in the batch: usually none, so the occurrence rank is computed on few
    # rows. Found by grouping their hashes first (integers group much faster than strings); keys that
    # share a hash are then compared as they are.
    conn.execute(
        f"create or replace temp table landing_repeated_keys as select {key}, count(distinct __file) as files "
        f"from (select {typed_keys}, __file from {STAGE}) where hash({key}) in "
        f"(select hash({key}) from (select {typed_keys} from {STAGE}) group by 1 having count(*) > 1) "
        f"group by {key} having count(*) > 1"
    )
    if conn.execute("select count(*) from landing_repeated_keys where files > 1").fetchone()[0]:
        return False
    join_keys = " and ".join(f"r.{k} = t.{k}" for k in source.key)
    typed_rows = (f"select {typed_columns(source, staged_types)}, __file, __line, __file_month, "
                  f"{parse_rule(source, staged_types)} as __cast_rule from {STAGE}")
    if conn.execute("select count(*) from landing_repeated_keys").fetchone()[0]:
        conn.execute(
            f"""
            create or replace temp table landing_occurrence as
            select t.__file, t.__line, row_number() over (partition by {', '.join(f't.{k}' for k in source.key)} order by t.__line) as occurrence
            from ({typed_rows}) t semi join landing_repeated_keys r on {join_keys}
            """
        )
        typed_rows = (f"select t.*, coalesce(o.occurrence, 1) as __key_occurrence from ({typed_rows}) t "
                      "left join landing_occurrence o on o.__file = t.__file and o.__line = t.__line")
    else:
        typed_rows = f"select *, 1 as __key_occurrence from ({typed_rows})"
    conn.execute(f"create or replace temp view landing_typed as {typed_rows}")
    # Keys already in raw from files that this batch does not replace.
    conn.execute(
        f"create or replace temp table rule_loaded_keys as select {', '.join(f't.{k}' for k in source.key)} "
        f"from landing_typed t inner join raw.{source.name} r on {join_keys} "
        "where r.source_file not in (select unnest(?::varchar[]))",
        [replaced],
    )
    conn.execute(
        f"""
        create or replace temp table landing_checked as
        select t.*, coalesce(t.__cast_rule, {first_broken_rule(source)}) as __rule
        from landing_typed t
        """
    )
    conn.execute("drop view landing_typed")
    conn.execute("drop table if exists landing_occurrence")
    return True


def _write(conn, source: LandingSource, files: list, replaced: list[str], changed: list, started, record) -> None:
    names = ", ".join(f'"{c}"' for c in source.columns)
    raw_row = "to_json(struct_pack(" + ", ".join(f'"{c}" := s."{c}"' for c in source.columns) + "))"
    sums = ", ".join(f'coalesce(sum("{c}") filter (where __rule is null), 0)' for c in source.amount_columns)
    conn.execute("begin transaction")
    try:
        if replaced:
            conn.execute(f"delete from raw.{source.name} where source_file in (select unnest(?::varchar[]))", [replaced])
            conn.execute("delete from raw.quarantine where source_name = ? and source_file in (select unnest(?::varchar[]))",
                         [source.name, replaced])
        conn.execute(
            f"insert into raw.{source.name} select {names}, f.source_file, c.__line from landing_checked c "
            "join landing_batch_files f on f.file_order = c.__file where c.__rule is null"
        )
        conn.execute(
            f"""
            insert into raw.quarantine
            select ?, f.source_file, c.__line, c.__rule, cast({raw_row} as varchar)
            from landing_checked c join {STAGE} s on s.__file = c.__file and s.__line = c.__line
            join landing_batch_files f on f.file_order = c.__file
            where c.__rule is not null order by c.__file, c.__line
            """,
            [source.name],
        )
        counts = {row[0]: row[1:] for row in conn.execute(
            f"select __file, count(*), count(*) filter (where __rule is null) {', ' + sums if sums else ''} "
            "from landing_checked group by __file").fetchall()}
        for index, (load, _) in enumerate(files):
            rows_read, rows_loaded, *totals = counts[index]
            load.rows_read, load.rows_loaded, load.rows_quarantined = rows_read, rows_loaded, rows_read - rows_loaded
            load.amount_totals = {c: int(v) for c, v in zip(source.amount_columns, totals)}
        for partition, _ in changed:
            record(conn, source, partition.partition_key, partition.files, started)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
