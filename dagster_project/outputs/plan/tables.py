"""The plan's rows as files: CSV for people, Parquet for machines, the same rows in the same order.

- CSV: Vietnamese headers with units, amounts in whole millions of đồng, counts as integers,
  percentages with one decimal; UTF-8 with a byte-order mark, `;` between fields and `,` before
  decimals, as Excel reads a file with Windows' Vietnamese regional settings (decimal comma, list
  separator `;`) by a double click. No thousands separators, so an amount is one number anywhere.
- Parquet: the mart's own English column names, amounts in VND (bigint), shares as fractions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dagster_project.outputs.plan.labels import MILLION, PLAN_COLUMNS, SOURCE_NAMES

CSV_SEPARATOR, CSV_DECIMAL, CSV_ENCODING = ";", ",", "utf-8-sig"
# what a machine reads: stable names, the mart's units
PARQUET_COLUMNS = [
    "scenario",
    "unit_level",
    "province_code",
    "parent_unit_code",
    "unit_code",
    "unit_name",
    "plan_year",
    "program_code",
    "program_name",
    "funding_source",
    "opening_principal",
    "collections",
    "relending",
    "net_new_lending",
    "new_disbursement",
    "closing_principal",
    "growth_rate",
    "capital_needed",
    "demand_disbursement",
    "unmet_demand",
    "planned_households",
    "planned_beneficiaries",
]


def for_people(rows: pd.DataFrame) -> pd.DataFrame:
    """Vietnamese headers, whole millions, integer counts, percent with one decimal."""
    columns = {c: v for c, v in PLAN_COLUMNS.items() if c != "office_name" or rows.unit_level.eq("commune").any()}
    shown = pd.DataFrame(index=rows.index)
    for column, (label, kind) in columns.items():
        values = rows[column]
        if kind == "vnd":
            values = (values / MILLION).round().astype("Int64")
        elif kind in ("count", "year"):
            values = values.astype("Int64")
        elif kind == "rate":
            values = (100 * values).round(1)
        elif column == "funding_source":
            values = values.map(SOURCE_NAMES).fillna(values)
        shown[label] = values
    return shown


def write_csv(rows: pd.DataFrame, path: Path) -> Path:
    for_people(rows).to_csv(path, index=False, sep=CSV_SEPARATOR, decimal=CSV_DECIMAL, encoding=CSV_ENCODING)
    return path


def write_parquet(rows: pd.DataFrame, path: Path) -> Path:
    rows[PARQUET_COLUMNS].reset_index(drop=True).to_parquet(path, index=False)
    return path
