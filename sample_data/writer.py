"""Write landing files in the contract's layout: registers as CSV (UTF-8 with BOM, as branch
exports open in Excel), monthly ledgers as Parquet or CSV, each with its control file beside it
(rows, size and amount sums, ingest/control.py), written after the file as a branch export does."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dagster_project.domain.landing_contract import LandingSource, landing_file_name
from dagster_project.ingest.control import write_control

ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
}


def _arrow_table(source: LandingSource, frame: pd.DataFrame) -> pa.Table:
    arrays = {}
    for column, kind in source.columns.items():
        values = frame[column]
        if kind == "DATE":
            arrays[column] = pa.array(values.to_numpy().astype("datetime64[D]"), pa.date32())
        elif kind.startswith("DECIMAL"):
            arrays[column] = pa.array(values.round(4).to_numpy(dtype=float), pa.float64())
        elif kind == "VARCHAR":
            arrays[column] = pa.array(values.to_numpy(dtype=object), pa.string(), from_pandas=True)
        else:
            arrays[column] = pa.array(values.to_numpy(), ARROW_TYPES[kind], from_pandas=True)
    return pa.table(arrays)


def clear(landing_dir: Path, source: LandingSource, branch_code: str) -> None:
    shutil.rmtree(landing_dir / source.folder / branch_code, ignore_errors=True)


def write_register(landing_dir: Path, source: LandingSource, branch_code: str, frame: pd.DataFrame) -> Path:
    path = landing_dir / landing_file_name(source, branch_code)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _arrow_table(source, frame)
    with path.open("wb") as f:
        f.write("\ufeff".encode())
        pacsv.write_csv(table, f, pacsv.WriteOptions(quoting_style="needed"))
    write_control(path, source, table)
    return path


def write_monthly(
    landing_dir: Path, source: LandingSource, branch_code: str, frame: pd.DataFrame, ledger_format: str
) -> int:
    # Filed by the month of the contract's date column, the one the loader checks each row against.
    months = frame[source.month_date].to_numpy().astype("datetime64[M]")
    boundaries = np.flatnonzero(np.r_[True, months[1:] != months[:-1], True])
    for start, stop in zip(boundaries[:-1], boundaries[1:]):  # frame is sorted by date: one slice a month
        path = landing_dir / landing_file_name(source, branch_code, str(months[start]), ledger_format)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = _arrow_table(source, frame.iloc[start:stop])
        if ledger_format == "parquet":
            pq.write_table(table, path, compression="zstd")
        else:
            pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
        write_control(path, source, table)
    return len(boundaries) - 1
