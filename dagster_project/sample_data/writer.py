"""Landing files in the contract's layout: registers as CSV (UTF-8 with a byte-order mark, as branch
exports open in Excel), monthly ledgers as Parquet (or CSV). Output is byte-identical for the
same input: no timestamps, fixed row order, fixed Parquet settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dagster_project.contract import LandingSource, landing_file_name

ARROW_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_()}
CSV_OPTIONS = pacsv.WriteOptions(include_header=True, quoting_style="needed")
PARQUET_DICTIONARY = ["loan_id", "transaction_type", "from_bucket", "to_bucket", "cause_code", "commune_code",
                      "transaction_point_id", "group_id"]


def arrow_column(kind: str, values) -> pa.Array:
    """A column typed for the contract: dates from day numbers (NO_DATE, -1, = null), rates as
    decimals written with up to four places, None / NaN / NA = null."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if kind == "DATE":
        days = np.asarray(values, dtype=np.int64)
        return pa.array(days.astype(np.int32), pa.date32(), mask=days < 0)
    if kind.startswith("DECIMAL"):
        return pa.array(np.round(np.asarray(values, dtype=float), 4), pa.float64())
    if kind == "VARCHAR":
        return pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True)
    if isinstance(values, pd.Series) and values.dtype == "Int64":  # nullable integers
        return pa.array(values, ARROW_TYPES[kind], from_pandas=True)
    return pa.array(np.asarray(values), ARROW_TYPES[kind])


def table(source: LandingSource, columns: dict) -> pa.Table:
    return pa.table({name: arrow_column(kind, columns[name]) for name, kind in source.columns.items()})


def clear(landing_dir: Path, source: LandingSource) -> None:
    shutil.rmtree(landing_dir / source.folder, ignore_errors=True)


def write_register(landing_dir: Path, source: LandingSource, branch_code: str, data: pa.Table) -> int:
    path = landing_dir / landing_file_name(source, branch_code)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write("\ufeff".encode())
        pacsv.write_csv(data, f, CSV_OPTIONS)
    return data.num_rows


def write_month(landing_dir: Path, source: LandingSource, branch_code: str, month: str, data: pa.Table, ledger_format: str) -> int:
    path = landing_dir / landing_file_name(source, branch_code, month, ledger_format)
    path.parent.mkdir(parents=True, exist_ok=True)
    if ledger_format == "parquet":
        dictionary = [c for c in PARQUET_DICTIONARY if c in data.column_names]
        pq.write_table(data, path, compression="zstd", use_dictionary=dictionary, write_statistics=False)
    else:
        pacsv.write_csv(data, path, CSV_OPTIONS)
    return data.num_rows
