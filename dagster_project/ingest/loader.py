"""Load landing files into the DuckDB `raw` schema, exactly once.

A *partition* is what one load replaces: a register's whole snapshot, or one month of a ledger
(all branches' files for that month). Its load is one transaction:

1. the content hash of each of its files is compared with `audit.load_manifest`; a partition
   whose files are all unchanged is skipped, so loading the same file twice lands it once;
2. each file is read as text and checked against the contract's columns; a file that fails
   (missing or renamed columns, wrong delimiter or encoding, unreadable, truncated, amounts stored
   as fractions in Parquet) is rejected whole, with a reason in the data team's words that names
   the line and the row's id, never a personal value; its earlier rows, if any, stay as they were;
3. each row is typed (`values.py`) and checked against the row rules (`rules.py`); a row with a
   value that cannot be typed as it is, or that breaks a rule, goes to `raw.quarantine` with file,
   line, rule and the raw row, the others replace the file's rows in `raw.<source>` with their
   lineage (`source_file`, `source_line`, the line the row starts on);
4. the manifest records rows read / loaded / quarantined and control totals per file.

A crash before the commit leaves the warehouse as it was; the next run loads the partition again.
A backfill loads its clean partitions set-based (batch.py), in batches of whole partitions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.domain.landing_contract import LINEAGE_COLUMNS, LandingSource
from dagster_project.ingest.control import NO_CONTROL_FILE, BadControlFile, check_staged, control_path
from dagster_project.ingest.parents import stale_partitions
from dagster_project.ingest.rules import first_broken_rule, prepare_reference
from dagster_project.ingest.values import fractional_columns, parse_rule, typed_columns

REGISTER_PARTITION = "snapshot"

QUARANTINE_COLUMNS = {
    "source_name": "VARCHAR",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "rule": "VARCHAR",
    "raw_row": "VARCHAR",
}

MANIFEST_COLUMNS = {
    "source_name": "VARCHAR",
    "partition_key": "VARCHAR",
    "source_file": "VARCHAR",
    "content_hash": "VARCHAR",
    "outcome": "VARCHAR",  # loaded | unchanged | rejected | ignored (landing.py)
    "message": "VARCHAR",  # why rejected or ignored; for a file loaded, a note (no control file)
    "rows_read": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_quarantined": "BIGINT",
    "control_totals": "VARCHAR",  # JSON: sum of each amount column over the loaded rows
    "started_at": "TIMESTAMP",
    "finished_at": "TIMESTAMP",
}


class FileRejected(Exception):
    """A landing file that cannot be loaded at all."""

    def __init__(self, source_file: str, reason: str):
        super().__init__(f"{source_file}: rejected: {reason}")
        self.source_file = source_file
        self.reason = reason


@dataclass
class FileLoad:
    source_file: str
    content_hash: str
    month: str | None = None  # a ledger file's month (its partition): its rows' dates fall in it
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    amount_totals: dict[str, int] = field(default_factory=dict)
    rejection: str | None = None
    note: str | None = None  # loaded, but something to know: no control file to check it against

    @property
    def month_start(self) -> date | None:
        return date.fromisoformat(f"{self.month}-01") if self.month else None


@dataclass
class PartitionLoad:
    source_name: str
    partition_key: str
    files: list[FileLoad]
    unchanged: bool = False
    # loads of other sources' partitions this load re-admitted (a register's dependants, parents.py)
    dependants: list["PartitionLoad"] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.rejection]

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)


def landing_files(landing_dir: Path, source: LandingSource, month: str | None = None) -> list[Path]:
    """The source's data files (of the month), by the contract's names: others are not loaded (landing.py)."""
    from dagster_project.ingest.landing import LandingName, read_name

    pattern = f"*/*_{month}.*" if month else "*/*"
    return sorted(
        p for p in (landing_dir / source.folder).glob(pattern)
        if isinstance(name := read_name(p.relative_to(landing_dir).as_posix()), LandingName)
        and (month is None or name.month == month)
    )


def file_month(path: Path | str) -> str | None:
    """A ledger file's month from its name (`transactions_08_2024-06.parquet` -> "2024-06")."""
    match = re.search(r"_(\d{4}-\d{2})$", Path(path).stem)
    return match.group(1) if match else None


def landing_months(landing_dir: Path, source: LandingSource) -> list[str]:
    """The months that have at least one landing file of a monthly ledger."""
    return sorted({month for p in landing_files(landing_dir, source) if (month := file_month(p))})


def file_hash(path: Path, with_control: bool = True) -> str:
    """sha256 of a landing file, then of its control file if it has one: a control file that
    arrives or changes after its data file makes a new version, checked again."""
    digest = hashlib.sha256()
    for part in (path, control_path(path)) if with_control else (path,):
        if part is path or part.exists():
            with part.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


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
    from dagster_project.ingest.parents import readmit_dependants

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
    if not conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'load_manifest'"
    ).fetchone()[0]:
        history = ManifestHistory({}, {}, set())
    else:
        history = _manifest_history(conn, source)
    partitions = (
        [(m, landing_files(landing_dir, source, m)) for m in landing_months(landing_dir, source)]
        if source.monthly
        else [(REGISTER_PARTITION, landing_files(landing_dir, source))]
    )
    return [
        key for key, paths in partitions
        if history.last_loaded.get(key, []) != sorted((p.relative_to(landing_dir).as_posix(), file_hash(p)) for p in paths)
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
    from dagster_project.ingest.batch import load_batch

    ensure_tables(conn, source)
    started = _now()
    history = _manifest_history(conn, source)
    loads, changed = [], []
    for key, paths in partitions:
        month = key if source.monthly else None
        files = [FileLoad(p.relative_to(landing_dir).as_posix(), file_hash(p), month,
                          note=None if control_path(p).exists() else NO_CONTROL_FILE) for p in paths]
        unchanged = bool(files) and history.last_loaded.get(key, []) == sorted((f.source_file, f.content_hash) for f in files)
        loads.append(PartitionLoad(source.name, key, files, unchanged=unchanged))
    # Unchanged files whose rows' parents changed since are loaded again (parents.py).
    stale = stale_partitions(conn, source, [load.partition_key for load in loads if load.unchanged])
    for load, (key, paths) in zip(loads, partitions):
        load.unchanged = load.unchanged and key not in stale
        if load.unchanged:
            continue
        if _reject_future_month(load):
            _record(conn, source, key, load.files, started)
        else:
            changed.append((load, paths))
    for load in loads:
        if load.unchanged:
            _record(conn, source, load.partition_key, load.files, started, outcome="unchanged")  # nothing loaded now
            history.report_last_load(load)
    for batch in _batches(changed):
        if not load_batch(conn, source, batch, history, started):
            prepare_reference(conn)
            for load, paths in batch:
                _load_partition(conn, source, load, paths, history, started)
    return loads


def _reject_future_month(load: PartitionLoad) -> bool:
    """A ledger month after the load month is rejected whole, its files left to a later run once
    the month has come (every row would be dated in the future)."""
    from dagster_project.ingest.landing import month_after_load

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


@dataclass
class ManifestHistory:
    """What the manifest knows of a source, read once a batch."""

    last_loaded: dict[str, list[tuple[str, str]]]  # partition -> sorted (file, hash) of its last load
    files: dict[str, set[str]]  # partition -> every file ever recorded for it
    loaded_files: set[str]  # files that have (or had) rows in raw
    # (file, hash) of a partition's last load -> rows read, loaded, quarantined and control totals then
    last_figures: dict[tuple[str, str], list] = field(default_factory=dict)

    def report_last_load(self, load: "PartitionLoad") -> None:
        """An unchanged partition's files report the figures of the load that put their rows in."""
        for f in load.files:
            rows_read, rows_loaded, rows_quarantined, totals = self.last_figures[(f.source_file, f.content_hash)]
            f.rows_read, f.rows_loaded, f.rows_quarantined = rows_read, rows_loaded, rows_quarantined
            f.amount_totals = json.loads(totals or "{}")

    def gone(self, load: "PartitionLoad") -> list[str]:
        """Files of the partition that left the landing folder: their rows leave with them."""
        current = {f.source_file for f in load.files}
        return sorted(f for f in self.files.get(load.partition_key, set()) if f not in current)


def _manifest_history(conn, source: LandingSource) -> ManifestHistory:
    rows = conn.execute(
        """
        select partition_key, source_file, content_hash, outcome,
               finished_at = max(case when outcome = 'loaded' then finished_at end)
                   over (partition by partition_key) as in_last_load,
               rows_read, rows_loaded, rows_quarantined, control_totals
        from audit.load_manifest where source_name = ?
        """,
        [source.name],
    ).fetchall()
    history = ManifestHistory({}, {}, set())
    for key, source_file, content_hash, outcome, in_last_load, *figures in rows:
        history.files.setdefault(key, set()).add(source_file)
        if outcome == "loaded":
            history.loaded_files.add(source_file)
            if in_last_load:
                history.last_loaded.setdefault(key, []).append((source_file, content_hash))
                history.last_figures[(source_file, content_hash)] = figures
    for files in history.last_loaded.values():
        files.sort()
    return history


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
            _check_columns(source, load.source_file, _stage_file(conn, source, path, load.source_file, stage))
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
        _record(conn, source, partition.partition_key, partition.files, started)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    finally:
        for stage, _ in stages:
            conn.execute(f"drop table if exists {stage}")


def _check_control(conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, path: Path, load: FileLoad) -> None:
    """Reject a staged file that disagrees with its control file (one without is loaded, noted)."""
    try:
        problem = check_staged(conn, source, stage, path)
    except BadControlFile as bad:
        raise FileRejected(load.source_file, str(bad)) from None
    if problem:
        raise FileRejected(load.source_file, problem)


def _record(conn, source, partition_key, files, started, outcome: str | None = None) -> None:
    finished = _now()
    rows = [
        [
            source.name, partition_key, f.source_file, f.content_hash,
            outcome or ("rejected" if f.rejection else "loaded"), f.rejection or (None if outcome else f.note),
            f.rows_read, f.rows_loaded, f.rows_quarantined, json.dumps(f.amount_totals, sort_keys=True),
            started, finished,
        ]
        for f in files
    ]
    if rows:
        conn.executemany(f"insert into audit.load_manifest values ({', '.join('?' * len(MANIFEST_COLUMNS))})", rows)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _csv_header(path: Path, source_file: str) -> list[str]:
    """The header's column names; the file's first checks (empty, encoding, delimiter) happen here."""
    with path.open("rb") as f:
        first_line = f.readline()
    if not first_line.strip():
        raise FileRejected(source_file, "empty file: no header line")
    try:
        header = first_line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise FileRejected(source_file, _not_utf8(first_line, 1)) from None
    if "\x00" in header:  # UTF-16 without a byte-order mark decodes, with a NUL every other byte
        raise FileRejected(source_file, _not_utf8(first_line, 1))
    if "\r" in header:  # the whole file read as its first line
        raise FileRejected(source_file, "lines end in CR only (classic Mac): save it with LF or CRLF line ends")
    columns = next(csv.reader([header]))
    if len(columns) == 1:
        delimiter = max(OTHER_DELIMITERS, key=header.count)
        if delimiter in header:
            raise FileRejected(source_file, f"delimiter is {OTHER_DELIMITERS[delimiter]} not ','")
    return [c.strip() for c in columns]


OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}


def _not_utf8(line: bytes, number: int, where: str = "") -> str:
    if number == 1 and (line[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in line):
        return "not UTF-8 (looks like UTF-16): save it as CSV UTF-8"
    return f"not UTF-8 (looks like Windows-1258 or another legacy encoding), first on line {number}{where}"


def _csv_problem(path: Path, source: LandingSource, header: list[str], duckdb_error: str) -> str:
    """Why DuckDB could not read a CSV file, in the data team's words and with the line it is on.
    (DuckDB's message quotes the row, personal values and all, and counts records, not lines.)"""
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                record = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
                return _not_utf8(line, number, _row_key(source, header, record))
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, strict=True)
        next(reader)
        start = reader.line_num + 1
        try:
            for record in reader:
                if record and len(record) != len(header):
                    row = f"line {start}{_row_key(source, header, record)}"
                    fields = f"{len(record)} field{'s' if len(record) != 1 else ''}"
                    found = f"{row} has {fields} where the header has {len(header)}"
                    if len(record) > len(header):
                        return f"{found} (a ',' in a value without quotes?)"
                    if next(reader, None) is None and not _ends_with_line_break(path):
                        return f"{found}: the file ends in the middle of this row (truncated)"
                    return f"{found} (a missing field, or a line break in a value without quotes?)"
                start = reader.line_num + 1
        except csv.Error as error:
            if "end of data" in str(error):
                return f"line {start}: a quoted value is never closed (a stray '\"'?)"
            return f"line {start}: a '\"' inside a value (quote the whole value and double the '\"' in it)"
    first_line = duckdb_error.splitlines()[0] if duckdb_error else "unknown error"
    return f"unreadable CSV: {first_line.replace(str(path), path.name)}"


def _row_key(source: LandingSource, header: list[str], record: list[str]) -> str:
    """' (loan_id L1)': the row's key, to find it by, or nothing when it cannot be told for sure:
    in a row with fields missing or too many, only leading key columns are where the header says
    (a stray delimiter further on shifts the rest), and a value that does not look like an id (a
    whole row read as one field) is never shown: it could be a personal value."""
    keys = list(source.key)
    if len(record) != len(header) and header[: len(keys)] != keys:
        return ""
    values = [record[header.index(k)].strip() if k in header and header.index(k) < len(record) else "" for k in keys]
    if not all(LOOKS_LIKE_AN_ID.fullmatch(v) for v in values):
        return ""
    return " (" + ", ".join(f"{k} {v}" for k, v in zip(keys, values)) + ")"


LOOKS_LIKE_AN_ID = re.compile(r"[\w.-]{1,40}")


def _ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return False
        f.seek(-1, 2)
        return f.read(1) in (b"\n", b"\r")


def _parquet_problem(path: Path) -> str:
    """Why a Parquet file cannot be read: one that begins with the marker `PAR1` is damaged."""
    with path.open("rb") as f:
        head = f.read(4)
    if head != b"PAR1":
        return "not a Parquet file (it does not begin with the Parquet marker)"
    return "Parquet file is corrupt or truncated"


def _physical_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _record_start_lines(path: Path) -> list[int]:
    """The physical line each record starts on (the header is line 1): a quoted value may hold a
    line break, and DuckDB skips blank lines."""
    starts = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        line = reader.line_num
        for record in reader:
            if record:
                starts.append(line + 1)
            line = reader.line_num
    return starts


def _number_lines(conn: duckdb.DuckDBPyConnection, path: Path, stage: str, source_file: str) -> None:
    """`__line` of each staged row: its file's line, where the row starts."""
    conn.execute(f"alter table {stage} add column __line BIGINT")
    rows = conn.execute(f"select count(*) from {stage}").fetchone()[0]
    ordinal = f"{stage}.rowid - (select min(rowid) from {stage})"  # rows keep file order
    if rows == _physical_lines(path) - 1:  # one line a row: the common case, no second read
        conn.execute(f"update {stage} set __line = {ordinal} + 2")
        return
    starts = _record_start_lines(path)
    if len(starts) != rows:
        raise FileRejected(source_file, f"its rows cannot be matched to its lines ({rows} rows, {len(starts)} records)")
    record_lines = pa.table({"ordinal": pa.array(range(rows), pa.int64()), "line": pa.array(starts, pa.int64())})
    conn.register("landing_record_lines", record_lines)
    try:
        conn.execute(
            f"update {stage} set __line = l.line from landing_record_lines l where l.ordinal = {ordinal}"
        )
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
            raise FileRejected(source_file, _parquet_problem(path)) from None
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
            raise FileRejected(source_file, _parquet_problem(path)) from None
    else:
        columns = _csv_header(path, source_file)
        # UTF-8 with or without BOM, LF or CRLF. A row with too few or too many fields (a
        # truncated file, a stray delimiter) or bytes that are not UTF-8 reject the file.
        try:
            conn.execute(
                f"create or replace temp table {stage} as select * from read_csv(?, header = true, "
                "columns = ?, auto_detect = false, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8')",
                [str(path), {c: "VARCHAR" for c in columns}],
            )
        except duckdb.Error as exc:
            raise FileRejected(source_file, _csv_problem(path, source, columns, str(exc))) from None
        _number_lines(conn, path, stage, source_file)
    columns = [c for c in conn.execute(f"select * from {stage} limit 0").fetchdf().columns if c != "__line"]
    if conn.execute(f"select count(*) from {stage}").fetchone()[0] == 0:
        raise FileRejected(source_file, "no data rows")
    return columns


def _check_columns(source: LandingSource, source_file: str, columns: list[str]) -> None:
    missing = [c for c in source.columns if c not in columns]
    unexpected = [c for c in columns if c not in source.columns]
    if missing or unexpected:
        raise FileRejected(
            source_file,
            f"columns do not match the contract for '{source.name}': "
            f"missing {missing or 'none'}, unexpected {unexpected or 'none'} "
            f"(found {len(columns)} column(s): {', '.join(columns)[:200]})",
        )


def _type_and_check(conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, load: FileLoad) -> None:
    """`landing_checked`: the staged rows typed, with `__rule` = the first rule each breaks (or null)."""
    staged_types = dict(conn.execute(f"select column_name, column_type from (describe {stage})").fetchall())
    key = ", ".join(f'"{k}"' for k in source.key)
    conn.execute(
        f"""
        create or replace temp table landing_typed as
        select {typed_columns(source, staged_types)}, __line, cast(? as date) as __file_month,
               {parse_rule(source, staged_types)} as __cast_rule,
               row_number() over (partition by {key} order by __line) as __key_occurrence
        from {stage}
        """,
        [load.month_start],
    )
    keys = ", ".join(f"t.{k}" for k in source.key)
    conn.execute(
        f"create or replace temp table rule_loaded_keys as select {keys} from landing_typed t "
        f"inner join raw.{source.name} r using ({', '.join(source.key)})"
    )
    conn.execute(
        f"""
        create or replace temp table landing_checked as
        select t.*, coalesce(t.__cast_rule, {first_broken_rule(source)}) as __rule
        from landing_typed t
        """
    )


def _load_staged(
    conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, load: FileLoad, replaces: bool = True
) -> None:
    if replaces:  # a file never loaded has no rows to delete: skip scanning the table
        conn.execute(f"delete from raw.{source.name} where source_file = ?", [load.source_file])
        conn.execute("delete from raw.quarantine where source_name = ? and source_file = ?", [source.name, load.source_file])
    _type_and_check(conn, source, stage, load)

    names = ", ".join(f'"{c}"' for c in source.columns)
    conn.execute(
        f"insert into raw.{source.name} select {names}, ? as source_file, __line as source_line "
        "from landing_checked where __rule is null order by __line",
        [load.source_file],
    )
    raw_row = "to_json(struct_pack(" + ", ".join(f'"{c}" := s."{c}"' for c in source.columns) + "))"
    conn.execute(
        f"""
        insert into raw.quarantine
        select ?, ?, c.__line, c.__rule, cast({raw_row} as varchar)
        from landing_checked c join {stage} s on s.__line = c.__line
        where c.__rule is not null order by c.__line
        """,
        [source.name, load.source_file],
    )
    sums = ", ".join(f'coalesce(sum("{c}") filter (where __rule is null), 0)' for c in source.amount_columns)
    counts = conn.execute(
        f"select count(*), count(*) filter (where __rule is null) {', ' + sums if sums else ''} from landing_checked"
    ).fetchone()
    load.rows_read, load.rows_loaded = counts[0], counts[1]
    load.rows_quarantined = load.rows_read - load.rows_loaded
    load.amount_totals = {c: int(v) for c, v in zip(source.amount_columns, counts[2:])}
    for table in ("landing_checked", "landing_typed"):
        conn.execute(f"drop table {table}")
