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

from datetime import datetime

import duckdb
import pyarrow.parquet as pq

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.ingest.admission import CHECKED, check_rows, figures_by_file, quoted, raw_row, staged_types
from dagster_project.ingest.control import BadControlFile, disagreement, figures_sql, read_control
from dagster_project.ingest.files import FileRejected, csv_header, physical_lines
from dagster_project.ingest.manifest import ManifestHistory, record
from dagster_project.ingest.rules import prepare_reference
from dagster_project.ingest.values import fractional_columns

STAGE = "landing_batch"


def load_batch(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, changed: list, history: ManifestHistory, started: datetime
) -> bool:
    """Load the partitions `changed` ([(PartitionLoad, paths)]) in one scan and one transaction;
    False, with nothing changed, when the batch is not clean (see above)."""
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
            if any(csv_header(p, str(p)) != list(source.columns) for p in paths):
                return False
            relation = (
                "read_csv(?, header = true, columns = $columns, auto_detect = false, delim = ',', "
                "quote = '\"', escape = '\"', encoding = 'utf-8', filename = true)"
            )
            line = None
    except (OSError, FileRejected, Exception):
        return False

    names = list(source.columns)
    columns = ", ".join(quoted(c) for c in names)
    try:
        conn.execute(
            "create or replace temp table landing_batch_files "
            "(path varchar, source_file varchar, file_order integer, file_month date)"
        )
        conn.executemany(
            "insert into landing_batch_files values (?, ?, ?, ?)",
            [[str(p), load.source_file, i, load.month_start] for i, (load, p) in enumerate(files)],
        )
        if line:
            conn.execute(
                f"create or replace temp table {STAGE} as select {columns}, f.file_order as __file, {line} as __line, "
                "f.file_month as __file_month "
                f"from {relation} s join landing_batch_files f on f.path = s.filename",
                [[str(p) for p in paths]],
            )
        else:
            # CSV rows keep file order: the rank within its file + 1 is the line (the header is line 1).
            conn.execute(
                f"create or replace temp table {STAGE} as select {columns}, f.file_order as __file, "
                "row_number() over (partition by s.filename order by s.rowid) + 1 as __line, "
                "f.file_month as __file_month "
                f"from (select *, row_number() over () as rowid from {relation.replace('$columns', '?')}) s "
                "join landing_batch_files f on f.path = s.filename",
                [[str(p) for p in paths], dict.fromkeys(names, "VARCHAR")],
            )
    except duckdb.Error:
        conn.execute(f"drop table if exists {STAGE}")
        return False
    per_file = dict(conn.execute(f"select __file, count(*) from {STAGE} group by 1").fetchall())
    # An empty file is rejected on the slow path, which also numbers the lines of a CSV file whose
    # rows are not one a line (a quoted line break, a blank line).
    if len(per_file) != len(files) or (
        line is None and any(per_file[i] != physical_lines(path) - 1 for i, (_, path) in enumerate(files))
    ):
        conn.execute(f"drop table {STAGE}")
        return False
    if not _agree_with_controls(conn, source, files):
        conn.execute(f"drop table {STAGE}")
        return False

    replaced = sorted(
        {load.source_file for load, _ in files if load.source_file in history.loaded_files}
        | {f for partition, _ in changed for f in history.gone(partition)}
    )
    prepare_reference(conn)
    try:
        # False when a key repeats across two files of the batch: the slow path decides which keeps it
        if not check_rows(conn, source, STAGE, replaced):
            return False
        _write(conn, source, files, replaced, changed, started)
        return True
    finally:
        for table in (STAGE, CHECKED, "landing_batch_files"):
            conn.execute(f"drop table if exists {table}")


def _agree_with_controls(conn: duckdb.DuckDBPyConnection, source: LandingSource, files: list) -> bool:
    """Every staged file that has a control file agrees with it; False otherwise, and the
    file-by-file path rejects the file that does not, naming the figures."""
    figures = {
        row[0]: row[1:]
        for row in conn.execute(
            f"select __file, {figures_sql(source, staged_types(conn, STAGE))} from {STAGE} group by __file"
        ).fetchall()
    }
    for index, (_load, path) in enumerate(files):
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


def _write(
    conn: duckdb.DuckDBPyConnection,
    source: LandingSource,
    files: list,
    replaced: list[str],
    changed: list,
    started: datetime,
) -> None:
    names = ", ".join(quoted(c) for c in source.columns)
    conn.execute("begin transaction")
    try:
        if replaced:
            conn.execute(
                f"delete from raw.{source.name} where source_file in (select unnest(?::varchar[]))", [replaced]
            )
            conn.execute(
                "delete from raw.quarantine where source_name = ? and source_file in (select unnest(?::varchar[]))",
                [source.name, replaced],
            )
        conn.execute(
            f"insert into raw.{source.name} select {names}, f.source_file, c.__line from {CHECKED} c "
            "join landing_batch_files f on f.file_order = c.__file where c.__rule is null"
        )
        conn.execute(
            f"""
            insert into raw.quarantine
            select ?, f.source_file, c.__line, c.__rule, {raw_row(source)}
            from {CHECKED} c join {STAGE} s on s.__file = c.__file and s.__line = c.__line
            join landing_batch_files f on f.file_order = c.__file
            where c.__rule is not null order by c.__file, c.__line
            """,
            [source.name],
        )
        figures = figures_by_file(conn, source)
        for index, (load, _) in enumerate(files):
            load.rows_read, load.rows_loaded, load.amount_totals = figures[index]
            load.rows_quarantined = load.rows_read - load.rows_loaded
        for partition, _ in changed:
            record(conn, source, partition.partition_key, partition.files, started)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
