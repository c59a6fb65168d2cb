"""Landing values to the contract's types, the same on both load paths (admission.py builds their
SQL for loader.py, file by file, and batch.py, set-based): how a staged column is typed, and the
parse rule a row breaks when one of its values cannot be typed without changing it (recorded
before the row rules of rules.py)."""

from __future__ import annotations

import pyarrow as pa

from dagster_project.domain.landing_contract import LandingSource

INTEGER_TYPES = ("BIGINT", "INTEGER")

# DuckDB's cast reads '371.250' as 371, rounds '280500.6' to 280501 and expands '7.74076E+10':
# an integer column takes plain digits only (a sign is left to the negative-amount rule).
PLAIN_INTEGER = "-?[0-9]+"


def text(column: str) -> str:
    """SQL: the staged value as trimmed text, empty = null."""
    return f"nullif(trim(cast(\"{column}\" as varchar)), '')"


def typed_already(source: LandingSource, staged_types: dict[str, str]) -> set[str]:
    """Columns a Parquet file already holds in the contract's type: they need no parsing."""
    return {c for c, t in source.columns.items() if staged_types.get(c) == t and t != "VARCHAR"}


def typed_value(source: LandingSource, column: str, staged_types: dict[str, str]) -> str:
    """SQL: the column's value in the contract's type (null when it cannot be typed)."""
    kind = source.columns[column]
    if column in typed_already(source, staged_types):
        return f'"{column}"'
    if kind == "VARCHAR":
        # A name typed with combining accents (NFD) looks like the precomposed one (NFC) but does
        # not compare or group equal to it: raw holds every text in NFC. ASCII passes unchanged, fast.
        return f"nfc_normalize({text(column)})"
    return f"try_cast({text(column)} as {kind})"


def typed_columns(source: LandingSource, staged_types: dict[str, str]) -> str:
    """SQL select list: every contract column typed, under its own name."""
    return ", ".join(f'{typed_value(source, c, staged_types)} as "{c}"' for c in source.columns)


def parse_rule(source: LandingSource, staged_types: dict[str, str]) -> str:
    """SQL over a staged row: the first key missing or value that cannot be typed as it is, or null."""
    already = typed_already(source, staged_types)
    cases = [f"when {text(k)} is null then 'missing key: {k}'" for k in source.key]
    for column, kind in source.columns.items():
        if kind == "VARCHAR" or column in already:
            continue
        value = text(column)
        unparseable = f"'unparseable {kind.lower()}: {column}'"
        if kind in INTEGER_TYPES:
            not_plain = f"{value} is not null and not regexp_full_match({value}, '{PLAIN_INTEGER}')"
            if column in source.amount_columns:
                cases.append(f"when {not_plain} then 'amount_not_integer: {column} ''' || left({value}, 40) || ''''")
            else:
                cases.append(f"when {not_plain} then {unparseable}")
        cases.append(f"when {value} is not null and try_cast({value} as {kind}) is null then {unparseable}")
    return "case " + " ".join(cases) + " else null end"


def fractional_columns(source: LandingSource, schema: pa.Schema) -> dict[str, str]:
    """Integer columns of the contract that a Parquet file stores with a fraction (floating point,
    or decimal with decimals), with their Parquet type: typing them would round the values."""
    found = {}
    for field in schema:
        if source.columns.get(field.name) not in INTEGER_TYPES:
            continue
        if pa.types.is_floating(field.type):
            found[field.name] = {16: "HALF_FLOAT", 32: "FLOAT"}.get(field.type.bit_width, "DOUBLE")
        elif pa.types.is_decimal(field.type) and field.type.scale > 0:
            found[field.name] = f"DECIMAL({field.type.precision},{field.type.scale})"
    return found
