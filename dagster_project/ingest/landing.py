"""Every file of the landing folder accounted for: the data files the contract knows by their
names, their control files, and every other file with the reason it is not loaded.

A data file is `<source>/<branch>/<source>_<branch>.csv` (a register) or
`<source>/<branch>/<source>_<branch>_<YYYY-MM>.csv|parquet` (a ledger month); beside it may lie its
control file (control.py). A file the contract does not know is recorded in `audit.load_manifest`
as `ignored`, with its reason; a ledger file of a month after the load month as `rejected`, and
loaded by a later run once its month has come.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.domain.landing_contract import LANDING_SOURCES, LandingSource
from dagster_project.domain.months import LedgerMonth
from dagster_project.ingest.control import CONTROL_SUFFIX
from dagster_project.ingest.files import file_hash
from dagster_project.ingest.manifest import now
from dagster_project.ingest.rules import load_date

# A ledger file's month at the end of its name (`transactions_08_2024-06.parquet`), as a regular
# expression both Python and DuckDB read (the raw gates find a row's month in its `source_file`).
MONTH_IN_NAME = r"_(\d{4}-\d{2})\.[A-Za-z]+$"


@dataclass(frozen=True)
class LandingName:
    """What a data file's path says it holds."""

    source: LandingSource
    branch: str
    month: str | None  # a ledger file's month, YYYY-MM


@dataclass(frozen=True)
class NotLoaded:
    """A file of the landing folder that no load takes, and why."""

    source_file: str  # relative to the landing root
    reason: str
    outcome: str = "ignored"  # or "rejected": a ledger month after the load month
    month: str | None = None

    @property
    def source_name(self) -> str | None:
        """The source whose folder the file is in (None outside them): its load records the file."""
        folder = self.source_file.split("/", 1)[0]
        return folder if "/" in self.source_file and folder in LANDING_SOURCES else None


def expected_name(source: LandingSource) -> str:
    if source.monthly:
        return f"{source.name}_<branch>_<YYYY-MM>.csv or .parquet"
    return f"{source.name}_<branch>.csv"


def read_name(relative: str) -> LandingName | str:
    """What the data file at `relative` (a path under the landing root) is, or why the contract
    does not know it, in the data team's words."""
    parts = relative.split("/")
    source = LANDING_SOURCES.get(parts[0]) if len(parts) > 1 else None
    if source is None:
        where = f"folder {parts[0]}/ is not a landing source" if len(parts) > 1 else "not in a source folder"
        return f"{where}: files go in <source>/<branch>/ ({', '.join(LANDING_SOURCES)})"
    if len(parts) != 3:
        return f"not in a branch folder: {source.name} files go in {source.folder}/<branch>/"
    folder, name = parts[1], parts[2]
    month = r"_(?P<month>\d{4}-\d{2})" if source.monthly else ""
    match = re.fullmatch(rf"{source.name}_(?P<branch>\d{{2}}){month}\.(?P<extension>[A-Za-z]+)", name)
    if not match or match["extension"].lower() not in ("csv", "parquet"):
        return f"name does not match {expected_name(source)}"
    extensions = ("csv", "parquet") if source.monthly else ("csv",)
    if match["extension"] not in extensions:
        case = " (lower case)" if match["extension"].lower() in extensions else ""
        return f"extension .{match['extension']} is not {' or '.join('.' + e for e in extensions)}{case}"
    if source.monthly and not _is_month(match["month"]):
        return f"month {match['month']} in the name is not a month (YYYY-MM, 01 to 12)"
    if match["branch"] != folder:
        return f"named for branch {match['branch']} but in the folder {source.folder}/{folder}/"
    return LandingName(source, match["branch"], match["month"] if source.monthly else None)


def _is_month(key: str) -> bool:
    try:
        LedgerMonth.parse(key)
    except ValueError:
        return False
    return True


def file_month(path: Path | str) -> str | None:
    """A ledger file's month from its name (`transactions_08_2024-06.parquet` -> "2024-06")."""
    match = re.search(MONTH_IN_NAME, Path(path).name)
    return match.group(1) if match else None


def landing_files(landing_dir: Path, source: LandingSource, month: str | None = None) -> list[Path]:
    """The source's data files (of the month), by the contract's names: others are not loaded."""
    pattern = f"*/*_{month}.*" if month else "*/*"
    return sorted(
        p
        for p in (landing_dir / source.folder).glob(pattern)
        if isinstance(name := read_name(p.relative_to(landing_dir).as_posix()), LandingName)
        and (month is None or name.month == month)
    )


def landing_months(landing_dir: Path, source: LandingSource) -> list[str]:
    """The months (YYYY-MM) that have at least one landing file of a monthly ledger."""
    return sorted({month for p in landing_files(landing_dir, source) if (month := file_month(p))})


def landing_paths(landing_dir: Path, source: LandingSource | None = None) -> Iterator[tuple[str, Path]]:
    """Every file of the landing folder, as (relative path, path), sorted; given a source, those of
    its folder and those outside every source folder."""
    if not landing_dir.is_dir():
        return
    tops = [
        p for p in landing_dir.iterdir() if source is None or p.name == source.folder or p.name not in LANDING_SOURCES
    ]
    paths = [p for top in tops if top.exists() for p in ([top] if top.is_file() else top.rglob("*")) if p.is_file()]
    for path in sorted(paths):
        yield path.relative_to(landing_dir).as_posix(), path


def month_after_load(month: str) -> str | None:
    """Why a ledger month cannot load yet: it is after the month of the load date (Vietnam's today,
    or PCW_LOAD_DATE), so every row of it would be dated in the future."""
    load_month = LedgerMonth.of(load_date())
    return f"month {month} is after the load month {load_month}" if LedgerMonth.parse(month) > load_month else None


def not_loaded(landing_dir: Path, partitions=None, source: LandingSource | None = None) -> list[NotLoaded]:
    """The files of the landing folder (given a source: of its folder and outside every source
    folder) that no load takes: names the
    contract does not know, control files without their data file, ledger months after the load
    month and, given the ledger partitions, months outside them."""
    found = []
    for relative, path in landing_paths(landing_dir, source):
        if relative.endswith(CONTROL_SUFFIX):
            data_file = path.with_name(path.name[: -len(CONTROL_SUFFIX)])
            if not data_file.is_file():
                found.append(NotLoaded(relative, f"control file without its data file {data_file.name}"))
            continue
        name = read_name(relative)
        if isinstance(name, str):
            found.append(NotLoaded(relative, name))
        elif name.month and (future := month_after_load(name.month)):
            found.append(NotLoaded(relative, f"{future}: it loads once its month has come", "rejected", name.month))
        elif (
            name.month
            and partitions is not None
            and not partitions.has_partition_key(LedgerMonth.parse(name.month).partition_key)
        ):
            first, last = (
                LedgerMonth.from_partition_key(key)
                for key in (partitions.get_first_partition_key(), partitions.get_last_partition_key())
            )
            found.append(
                NotLoaded(
                    relative,
                    f"month {name.month} is outside the ledger partitions ({first} to {last}; "
                    "PCW_FIRST_LEDGER_MONTH sets the first)",
                    month=name.month,
                )
            )
    return found


def record_not_loaded(conn: duckdb.DuckDBPyConnection, files: list[NotLoaded], landing_dir: Path) -> list[NotLoaded]:
    """Record in audit.load_manifest each file not loaded whose version or reason the manifest does
    not already say last (a run does not repeat what the last one recorded); return those."""
    if not files:
        return []
    last = {
        source_file: (content_hash, outcome, message)
        for source_file, content_hash, outcome, message in conn.execute(
            "select source_file, arg_max(content_hash, finished_at), arg_max(outcome, finished_at), "
            "arg_max(message, finished_at) from audit.load_manifest "
            "where source_file in (select unnest(?::varchar[])) group by source_file",
            [[f.source_file for f in files]],
        ).fetchall()
    }
    recorded_at = now()
    new = []
    for f in files:
        content_hash = file_hash(landing_dir / f.source_file, with_control=False)
        if last.get(f.source_file) != (content_hash, f.outcome, f.reason):
            new.append((f, content_hash))
    if not new:
        return []
    conn.executemany(
        "insert into audit.load_manifest values (?, ?, ?, ?, ?, ?, 0, 0, 0, '{}', ?, ?)",
        [
            [f.source_name, f.month, f.source_file, content_hash, f.outcome, f.reason, recorded_at, recorded_at]
            for f, content_hash in new
        ],
    )
    return [f for f, _ in new]


def summary(files: list[NotLoaded], limit: int = 5) -> str:
    """One line for a log or a skip reason: how many files are not loaded, the first few with why."""
    listed = "; ".join(f"{f.source_file} ({f.outcome}: {f.reason})" for f in files[:limit])
    return f"{len(files)} landing file(s) not loaded: {listed}" + (" …" if len(files) > limit else "")
