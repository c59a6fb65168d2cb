"""Library warnings we know of and accept, filtered in one place (the CLI and the definitions call
`filter_known_warnings` before anything else is imported): each names its category, the module the
warning is attributed to and the start of its message, so any other warning still shows."""

from __future__ import annotations

import warnings

# (category name, module regex, message regex)
KNOWN_WARNINGS = [
    # Monthly ledgers backfill as one run (defs/loads.py): a beta parameter we depend on.
    ("BetaWarning", r"dagster\._core\.decorator_utils", r"Parameter `backfill_policy` of function `asset`"),
    # Ledger gates validate only the months of the run (defs/quality_gates.py).
    (
        "PreviewWarning",
        r"dagster\._core\.definitions\.decorators\.asset_check_decorator",
        r"Specifying a partitions_def on an AssetCheckSpec",
    ),
    # pyspark 4 (the Spark extra, loaded by Great Expectations) on pandas 3: the Spark target reads
    # Parquet, never pandas frames.
    ("FutureWarning", r"pyspark\.", r"PySpark does not yet fully support pandas >= 3"),
]


def filter_known_warnings() -> None:
    # Matched by module and message; the category names are for the reader: importing Dagster's
    # classes would cost a command that never loads Dagster (`pcw run` with nothing to build) 1.5 s.
    for _category, module, message in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=Warning, module=module)
