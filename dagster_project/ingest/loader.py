"""Load landing files into the DuckDB `raw` schema, exactly once.

A *partition* is what one load replaces: a register's whole snapshot, or one month of a ledger
(all branches' files for that month). Its load is one transaction:

1. the content hash of each of its files is compared with `audit.load_manifest` (manifest.py); a
   partition whose files are all unchanged is skipped, so loading the same file twice lands it once;
2. each file is read as text and checked against the contract's columns; a file that fails
   (missing or renamed columns, wrong delimiter or encoding, unreadable, truncated, amounts stored
   as fractions in Parquet) is rejected whole, with a reason in the data team's words that names
   the line and the row's id, never a personal value (files.py); its earlier rows, if any, stay
   as they were;
3. each row is typed and checked against the row rules (admission.py); a row with a value that
   cannot be typed as it is, or that breaks a rule, goes to `raw.quarantine` with file, line,
   rule and the raw row, the others replace the file's rows in `raw.<source>` with their lineage
   (`source_file`, `source_line`, the line the row starts on);
4. the manifest records rows read / loaded / quarantined and control totals per file.

A crash before the commit leaves the warehouse as it was; the next run loads the partition again.
A backfill loads its clean partitions set-based (batch.py), in batches of whole partitions.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.domain.landing_contract import LANDING_SOURCES, LINEAGE_COLUMNS, LandingSource
from dagster_project.ingest import batch
from dagster_project.ingest.admission import CHECKED, check_rows, figures_by_file, quoted, raw_row
from dagster_project.ingest.control import NO_CONTROL_FILE, BadControlFile, check_staged, control_path
from dagster_project.ingest.files import (
    FileRejected,
    csv_header,
    csv_problem,
    file_hash,
    parquet_problem,
    physical_lines,
    record_start_lines,
)
from dagster_project.ingest.landing import landing_files, landing_months, month_after_load
from dagster_project.ingest.manifest import (
    MANIFEST_COLUMNS,
    REGISTER_PARTITION,
    FileLoad,
    ManifestHistory,
    PartitionLoad,
    manifest_history,
    now,
    record,
)
from dagster_project.ingest.parents import stale_partitions
from dagster_project.ingest.rules import REFERENCES, prepare_reference
from dagster_project.ingest.values import fractional_columns

QUARANTINE_COLUMNS = {
    "source_name": "VARCHAR",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "rule": "VARCHAR",
    "raw_row": "VARCHAR",
}


def ensure_tables(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> None:
    conn.execute("create schema if not exists raw")
    conn.execute("create schema if not exists audit")
    for name, columns in (
        (f"raw.{source.name}", source.columns | LINEAGE_COLUMNS),
        ("raw.quarantine", QUARANTINE_COLUMNS),
        ("audit.load_manifest", MANIFEST_COLUMNS),
    ):
        conn.execute(f"create table if not exists {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")


def load_register(conn: duckdb.DuckDBPyConnection, source: LandingSource, landing_dir: Path) -> PartitionLoad:
    """Load a register's snapshot: its files replace every row the source had; then the rows that
    name its rows as their parent are re-admitted where that changed (parents.py)."""
    [load] = load_partitions(conn, source, landing_dir, [(REGISTER_PARTITION, landing_files(landing_dir, source))])
    # also when unchanged: a load that stopped between the register and its dependants is finished
    load.dependants = readmit_dependants(conn, source, landing_dir)
    return load


def load_month(conn: duckdb.DuckDBPyConnection, source: LandingSource, landing_dir: Path, month: str) -> PartitionLoad:
    """Load one month of a ledger: its files replace the rows of that month's files."""
    return load_months(conn, source, landing_dir, [month])[0]


def load_months(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, landing_dir: Path, months: list[str]
) -> list[PartitionLoad]:
    """Load a range of ledger months (a backfill), each month replacing its files' rows."""
    return load_partitions(conn, source, landing_dir, [(m, landing_files(landing_dir, source, m)) for m in months])


def changed_partitions(conn: duckdb.DuckDBPyConnection, source: LandingSource, landing_dir: Path) -> list[str]:
    """The partitions whose landing files differ from their last load (a register: its snapshot):
    what a load would do anything for. Reads the files' hashes, writes nothing."""
    history = manifest_history(conn, source)
    partitions = (
        [(m, landing_files(landing_dir, source, m)) for m in landing_months(landing_dir, source)]
        if source.monthly
        else [(REGISTER_PARTITION, landing_files(landing_dir, source))]
    )
    return [
        key
        for key, paths in partitions
        if history.last_loaded.get(key, [])
        != sorted((p.relative_to(landing_dir).as_posix(), file_hash(p)) for p in paths)
    ]


def load_partitions(
    conn: duckdb.DuckDBPyConnection,
    source: LandingSource,
    landing_dir: Path,
    partitions: list[tuple[str, list[Path]]],
) -> list[PartitionLoad]:
    """Load partitions (key, files). Clean batches load set-based in one transaction (batch.py);
    a batch with a file to reject or a key repeated across its files loads partition by
    partition, each in its own transaction, so that the first file to arrive wins."""
    ensure_tables(conn, source)
    started = now()
    history = manifest_history(conn, source)
    loads, changed = [], []
    for key, paths in partitions:
        month = key if source.monthly else None
        files = [
            FileLoad(
                p.relative_to(landing_dir).as_posix(),
                file_hash(p),
                month,
                note=None if control_path(p).exists() else NO_CONTROL_FILE,
            )
            for p in paths
        ]
        unchanged = bool(files) and history.last_loaded.get(key, []) == sorted(
            (f.source_file, f.content_hash) for f in files
        )
        loads.append(PartitionLoad(source.name, key, files, unchanged=unchanged))
    # Unchanged files whose rows' parents changed since are loaded again (parents.py).
    stale = stale_partitions(conn, source, [load.partition_key for load in loads if load.unchanged])
    for load, (key, paths) in zip(loads, partitions):
        load.unchanged = load.unchanged and key not in stale
        if load.unchanged:
            continue
        if _reject_future_month(load):
            record(conn, source, key, load.files, started)
        else:
            changed.append((load, paths))
    for load in loads:
        if load.unchanged:
            record(conn, source, load.partition_key, load.files, started, outcome="unchanged")  # nothing loaded now
            history.report_last_load(load)
    for partitions_batch in _batches(changed):
        if not batch.load_batch(conn, source, partitions_batch, history, started):
            prepare_reference(conn)
            for load, paths in partitions_batch:
                _load_partition(conn, source, load, paths, history, started)
    return loads


def _reject_future_month(load: PartitionLoad) -> bool:
    """A ledger month after the load month is rejected whole, its files left to a later run once
    the month has come (every row would be dated in the future)."""
    reason = month_after_load(load.partition_key) if load.files and load.files[0].month else None
    for f in load.files if reason else []:
        f.rejection = f"{reason}: it loads once its month has come"
    return reason is not None


# A batch's rows are staged and checked in DuckDB temp tables, which spill to disk past the memory
# limit: ~20 M rows (the default province's whole history) keep it in memory on a 24 GiB machine;
# a backfill of the whole country goes in batches of whole partitions, each its own transaction.
BATCH_ROWS = 20_000_000


def _batches(changed: list) -> list[list]:
    """Consecutive partitions, whole, in batches of at most BATCH_ROWS rows (a larger partition alone)."""
    batches, rows = [], 0
    for load, paths in changed:
        partition_rows = sum(_row_estimate(p) for p in paths)
        if not batches or rows + partition_rows > BATCH_ROWS:
            batches.append([])
            rows = 0
        batches[-1].append((load, paths))
        rows += partition_rows
    return batches


def _row_estimate(path: Path) -> int:
    if path.suffix == ".parquet":
        try:
            return pq.read_metadata(path).num_rows
        except Exception:  # unreadable: the load rejects it with its reason
            return 0
    return path.stat().st_size // 100  # a CSV ledger row is ~100 bytes


def readmit_dependants(
    conn: duckdb.DuckDBPyConnection, register: LandingSource, landing_dir: Path
) -> list[PartitionLoad]:
    """After `register` loaded: load again, from their landing files, the partitions of every source
    below it (in contract order, so a borrower comes back before its loans) whose rows its load
    admits otherwise (parents.py). Returns their loads."""
    changed, loads = {register.name}, []
    for source in LANDING_SOURCES.values():
        if not any(r.parent in changed for r in REFERENCES.get(source.name, [])):
            continue
        keys = sorted(stale_partitions(conn, source, _loaded_partitions(conn, source)))
        if keys:
            partitions = [(k, landing_files(landing_dir, source, k if source.monthly else None)) for k in keys]
            loads += load_partitions(conn, source, landing_dir, partitions)
            changed.add(source.name)
    return loads


def _loaded_partitions(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> list[str]:
    return [
        k
        for (k,) in conn.execute(
            "select distinct partition_key from audit.load_manifest where source_name = ? and outcome = 'loaded'",
            [source.name],
        ).fetchall()
    ]


def _load_partition(
    conn: duckdb.DuckDBPyConnection,
    source: LandingSource,
    partition: PartitionLoad,
    paths: list[Path],
    history: ManifestHistory,
    started: datetime,
) -> None:
    # Reading a file can fail, and a failed statement aborts a DuckDB transaction: so every file
    # is read and checked before the transaction that changes the tables.
    stages = []
    for index, (path, load) in enumerate(zip(paths, partition.files)):
        stage = f"landing_stage_{index}"
        try:
            columns = _stage_file(conn, source, path, load.source_file, stage)
            _check_columns(source, load.source_file, columns)
            for later in (c for c in source.later_columns if c not in columns):
                conn.execute(f"alter table {stage} add column {quoted(later)} varchar")
            _check_control(conn, source, stage, path, load)
            stages.append((stage, load))
        except FileRejected as rejected:
            load.rejection = rejected.reason
            conn.execute(f"drop table if exists {stage}")

    conn.execute("begin transaction")
    try:
        gone = history.gone(partition)
        if gone:
            conn.execute(f"delete from raw.{source.name} where source_file in (select unnest(?::varchar[]))", [gone])
            conn.execute(
                "delete from raw.quarantine where source_name = ? and source_file in (select unnest(?::varchar[]))",
                [source.name, gone],
            )
        for stage, load in stages:
            _load_staged(conn, source, stage, load, replaces=load.source_file in history.loaded_files)
            history.loaded_files.add(load.source_file)
        record(conn, source, partition.partition_key, partition.files, started)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    finally:
        for stage, _ in stages:
            conn.execute(f"drop table if exists {stage}")


def _check_control(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, path: Path, load: FileLoad
) -> None:
    """Reject a staged file that disagrees with its control file (one without is loaded, noted)."""
    try:
        problem = check_staged(conn, source, stage, path)
    except BadControlFile as bad:
        raise FileRejected(load.source_file, str(bad)) from None
    if problem:
        raise FileRejected(load.source_file, problem)


def _number_lines(conn: duckdb.DuckDBPyConnection, path: Path, stage: str, source_file: str) -> None:
    """`__line` of each staged row: its file's line, where the row starts."""
    conn.execute(f"alter table {stage} add column __line BIGINT")
    rows = conn.execute(f"select count(*) from {stage}").fetchone()[0]
    ordinal = f"{stage}.rowid - (select min(rowid) from {stage})"  # rows keep file order
    if rows == physical_lines(path) - 1:  # one line a row: the common case, no second read
        conn.execute(f"update {stage} set __line = {ordinal} + 2")
        return
    starts = record_start_lines(path)
    if len(starts) != rows:
        raise FileRejected(source_file, f"its rows cannot be matched to its lines ({rows} rows, {len(starts)} records)")
    record_lines = pa.table({"ordinal": pa.array(range(rows), pa.int64()), "line": pa.array(starts, pa.int64())})
    conn.register("landing_record_lines", record_lines)
    try:
        conn.execute(f"update {stage} set __line = l.line from landing_record_lines l where l.ordinal = {ordinal}")
    finally:
        conn.unregister("landing_record_lines")


def _stage_file(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, path: Path, source_file: str, stage: str
) -> list[str]:
    """Read a file, every column as text, into the temp table `stage` with its line numbers."""
    if path.suffix == ".parquet":
        try:
            schema = pq.read_schema(path)
        except Exception:  # pyarrow raises several kinds for a file that is not whole
            raise FileRejected(source_file, parquet_problem(path)) from None
        fractional = fractional_columns(source, schema)
        if fractional:
            raise FileRejected(
                source_file,
                "; ".join(
                    f"column {c} is {t} in the Parquet file, not an integer type: "
                    + ("amounts are whole đồng and " if c in source.amount_columns else "")
                    + "a fraction would be rounded"
                    for c, t in fractional.items()
                ),
            )
        try:
            conn.execute(
                f"create or replace temp table {stage} as "
                "select * exclude (file_row_number), file_row_number + 1 as __line "
                "from read_parquet(?, file_row_number = true)",
                [str(path)],
            )
        except duckdb.Error:
            raise FileRejected(source_file, parquet_problem(path)) from None
    else:
        columns = csv_header(path, source_file)
        # UTF-8 with or without BOM, LF or CRLF. A row with too few or too many fields (a
        # truncated file, a stray delimiter) or bytes that are not UTF-8 reject the file.
        try:
            conn.execute(
                f"create or replace temp table {stage} as select * from read_csv(?, header = true, "
                "columns = ?, auto_detect = false, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8')",
                [str(path), dict.fromkeys(columns, "VARCHAR")],
            )
        except duckdb.Error as exc:
            raise FileRejected(source_file, csv_problem(path, source, columns, str(exc))) from None
        _number_lines(conn, path, stage, source_file)
    columns = [c for c in conn.execute(f"select * from {stage} limit 0").fetchdf().columns if c != "__line"]
    if conn.execute(f"select count(*) from {stage}").fetchone()[0] == 0:
        raise FileRejected(source_file, "no data rows")
    return columns


def _check_columns(source: LandingSource, source_file: str, columns: list[str]) -> None:
    missing = [c for c in source.columns if c not in columns and c not in source.later_columns]
    unexpected = [c for c in columns if c not in source.columns]
    if missing or unexpected:
        raise FileRejected(
            source_file,
            f"columns do not match the contract for '{source.name}': "
            f"missing {missing or 'none'}, unexpected {unexpected or 'none'} "
            f"(found {len(columns)} column(s): {', '.join(columns)[:200]})",
        )


def _load_staged(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, load: FileLoad, replaces: bool = True
) -> None:
    if replaces:  # a file never loaded has no rows to delete: skip scanning the table
        conn.execute(f"delete from raw.{source.name} where source_file = ?", [load.source_file])
        conn.execute(
            "delete from raw.quarantine where source_name = ? and source_file = ?", [source.name, load.source_file]
        )
    # The file as the one file of a load (admission.py); its month is a literal made from a date.
    file_month = f"date '{load.month_start.isoformat()}'" if load.month_start else "cast(null as date)"
    conn.execute(
        f"create or replace temp view landing_file as select *, 0 as __file, {file_month} as __file_month from {stage}"
    )
    try:
        # its rows were deleted above, and one file's keys cannot repeat across files: never False
        if not check_rows(conn, source, "landing_file", replaced=[]):
            raise AssertionError("a key repeated across the files of a one-file load")
        names = ", ".join(quoted(c) for c in source.columns)
        conn.execute(
            f"insert into raw.{source.name} select {names}, ? as source_file, __line as source_line "
            f"from {CHECKED} where __rule is null order by __line",
            [load.source_file],
        )
        conn.execute(
            f"""
            insert into raw.quarantine
            select ?, ?, c.__line, c.__rule, {raw_row(source)}
            from {CHECKED} c join {stage} s on s.__line = c.__line
            where c.__rule is not null order by c.__line
            """,
            [source.name, load.source_file],
        )
        [(load.rows_read, load.rows_loaded, load.amount_totals)] = figures_by_file(conn, source).values()
        load.rows_quarantined = load.rows_read - load.rows_loaded
    finally:
        conn.execute(f"drop table if exists {CHECKED}")
        conn.execute("drop view if exists landing_file")
