"""Control files: what a branch export writes beside each landing file, so that the warehouse can
tell the file arrived whole (docs/data-contract.md, *Control files*).

Beside `transactions_08_2024-06.parquet`, `transactions_08_2024-06.parquet.control.json`:

    {"rows": 2725, "bytes": 183456, "sums": {"interest_amount": 5678000, "principal_amount": 1234000000}}

`rows` counts the data rows, `bytes` is the data file's size, `sums` holds the sum of each amount
column over every row as written: before any row is quarantined, since the figures are about the
file, not about its rows. A value that is not plain digits adds nothing to the file's sum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.ingest.values import PLAIN_INTEGER, text, typed_already

CONTROL_SUFFIX = ".control.json"
NO_CONTROL_FILE = "no control file: rows and sums not checked"


class BadControlFile(ValueError):
    """A control file that cannot be read as one: its data file cannot be checked, so is rejected."""


@dataclass(frozen=True)
class ControlTotals:
    rows: int
    bytes: int
    sums: dict[str, int]


def control_path(path: Path) -> Path:
    return path.with_name(path.name + CONTROL_SUFFIX)


def read_control(path: Path, source: LandingSource) -> ControlTotals | None:
    """The control file beside the data file `path`, or None when there is none."""
    control = control_path(path)
    if not control.exists():
        return None
    try:
        figures = json.loads(control.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadControlFile(f"its control file {control.name} is not JSON") from None
    sums = figures.get("sums") if isinstance(figures, dict) else None
    missing = [k for k in ("rows", "bytes") if not isinstance(figures, dict) or not _whole(figures.get(k))]
    missing += [f"sums.{c}" for c in source.amount_columns if not isinstance(sums, dict) or not _whole(sums.get(c))]
    if missing:
        raise BadControlFile(f"its control file {control.name} lacks {', '.join(missing)} (whole numbers)")
    return ControlTotals(figures["rows"], figures["bytes"], {c: sums[c] for c in source.amount_columns})


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def figures_sql(source: LandingSource, staged_types: dict[str, str]) -> str:
    """SQL select list over staged rows: the row count, then each amount column's sum as written
    (plain digits only: '371.250' is not 371,250 đồng, whatever a cast would make of it)."""
    typed = typed_already(source, staged_types)
    sums = [
        f'coalesce(sum("{c}"), 0)'
        if c in typed
        else f"coalesce(sum(case when regexp_full_match({text(c)}, '{PLAIN_INTEGER}') "
        f"then cast({text(c)} as hugeint) end), 0)"
        for c in source.amount_columns
    ]
    return ", ".join(["count(*)", *sums])


def disagreement(control: ControlTotals, control_name: str, rows: int, sums: dict[str, int], size: int) -> str | None:
    """Every figure of the file that differs from its control file, both figures named; None if all agree."""
    found = []
    if rows != control.rows:
        found.append(f"rows: control says {control.rows:,}, file has {rows:,}")
    found += [
        f"sum of {c}: control {control.sums[c]:,} VND, file {sums[c]:,} VND"
        for c in control.sums
        if int(sums[c]) != control.sums[c]
    ]
    if size != control.bytes:
        found.append(f"size: control says {control.bytes:,} bytes, file has {size:,}")
    return f"does not match its control file {control_name}: " + "; ".join(found) if found else None


def check_staged(conn: duckdb.DuckDBPyConnection, source: LandingSource, stage: str, path: Path) -> str | None:
    """Why a staged file (every row of it, as read) disagrees with its control file, or None (also
    when it has none). Raises BadControlFile."""
    control = read_control(path, source)
    if control is None:
        return None
    staged_types = dict(conn.execute(f"select column_name, column_type from (describe {stage})").fetchall())
    rows, *sums = conn.execute(f"select {figures_sql(source, staged_types)} from {stage}").fetchone()
    return disagreement(
        control, control_path(path).name, rows, dict(zip(source.amount_columns, sums)), path.stat().st_size
    )


def control_totals(source: LandingSource, table: pa.Table, size: int) -> dict:
    """The control file's figures for a data file of `size` bytes holding `table`."""
    sums = {c: int(pc.sum(table[c]).as_py() or 0) for c in sorted(source.amount_columns)}
    return {"rows": table.num_rows, "bytes": size, "sums": sums}


def write_control(path: Path, source: LandingSource, table: pa.Table | None = None) -> Path:
    """Write the control file of the data file `path` (its rows `table`, read from the file if not
    given), as a branch export does after writing the file."""
    if table is None:
        table = (
            pq.read_table(path)
            if path.suffix == ".parquet"
            else pacsv.read_csv(
                path, convert_options=pacsv.ConvertOptions(column_types={c: pa.int64() for c in source.amount_columns})
            )
        )
    control = control_path(path)
    control.write_text(json.dumps(control_totals(source, table, path.stat().st_size)) + "\n", encoding="utf-8")
    return control
