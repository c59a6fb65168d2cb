"""The load manifest, `audit.load_manifest`: one row per landing file a load met, with its
content hash, outcome and figures. It is what makes a load happen once: a partition whose files
the last load recorded with the same hashes is unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.domain.months import LedgerMonth

# A register's one partition: its whole snapshot.
REGISTER_PARTITION = "snapshot"

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
        return LedgerMonth.parse(self.month).first_day if self.month else None


@dataclass
class PartitionLoad:
    source_name: str
    partition_key: str
    files: list[FileLoad]
    unchanged: bool = False
    # loads of other sources' partitions this load re-admitted (a register's dependants, parents.py)
    dependants: list[PartitionLoad] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.rejection]

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)


@dataclass
class ManifestHistory:
    """What the manifest knows of a source, read once a batch."""

    last_loaded: dict[str, list[tuple[str, str]]]  # partition -> sorted (file, hash) of its last load
    files: dict[str, set[str]]  # partition -> every file ever recorded for it
    loaded_files: set[str]  # files that have (or had) rows in raw
    # (file, hash) of a partition's last load -> rows read, loaded, quarantined and control totals then
    last_figures: dict[tuple[str, str], list] = field(default_factory=dict)

    def report_last_load(self, load: PartitionLoad) -> None:
        """An unchanged partition's files report the figures of the load that put their rows in."""
        for f in load.files:
            rows_read, rows_loaded, rows_quarantined, totals = self.last_figures[(f.source_file, f.content_hash)]
            f.rows_read, f.rows_loaded, f.rows_quarantined = rows_read, rows_loaded, rows_quarantined
            f.amount_totals = json.loads(totals or "{}")

    def gone(self, load: PartitionLoad) -> list[str]:
        """Files of the partition that left the landing folder: their rows leave with them."""
        current = {f.source_file for f in load.files}
        return sorted(f for f in self.files.get(load.partition_key, set()) if f not in current)


def manifest_history(conn: duckdb.DuckDBPyConnection, source: LandingSource) -> ManifestHistory:
    """What the manifest knows of `source` (nothing before the first load made it)."""
    if not conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'load_manifest'"
    ).fetchone()[0]:
        return ManifestHistory({}, {}, set())
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


def record(
    conn: duckdb.DuckDBPyConnection,
    source: LandingSource,
    partition_key: str,
    files: list[FileLoad],
    started: datetime,
    outcome: str | None = None,
) -> None:
    """One manifest row a file: `outcome` for all of them (`unchanged`), else each file's own."""
    finished = now()
    rows = [
        [
            source.name,
            partition_key,
            f.source_file,
            f.content_hash,
            outcome or ("rejected" if f.rejection else "loaded"),
            f.rejection or (None if outcome else f.note),
            f.rows_read,
            f.rows_loaded,
            f.rows_quarantined,
            json.dumps(f.amount_totals, sort_keys=True),
            started,
            finished,
        ]
        for f in files
    ]
    if rows:
        conn.executemany(f"insert into audit.load_manifest values ({', '.join('?' * len(MANIFEST_COLUMNS))})", rows)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
