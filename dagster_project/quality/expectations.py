"""Run the Great Expectations suites in `expectations/` against warehouse tables.

GX 1.x on a DuckDB SQL datasource cannot read its own results, so each suite is validated on a
pandas DataFrame holding just the columns its expectations name, pulled from DuckDB. Every
outcome is also kept in `audit.quality_results`, so the team can follow quality over time.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.domain.landing_contract import LANDING_SOURCES, PERSONAL_COLUMNS
from dagster_project.ingest.landing import MONTH_IN_NAME
from dagster_project.settings import EXPECTATIONS_DIR, SEEDS_DIR

EXAMPLES_PER_RULE = 5


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    expectation: str
    success: bool
    unexpected_count: int
    examples: list
    # A failed rule over months validated together: the rows that broke it (count, examples) by month
    by_month: dict[str, tuple[int, list]] = field(default_factory=dict)

    def describe(self) -> str:
        if self.success:
            return f"ok: {self.rule}"
        return f"FAILED: {self.rule} — {self.unexpected_count} rows, e.g. {self.examples}"

    def in_month(self, month: str) -> RuleOutcome:
        """The rule on one month's rows: a failed rule fails the months of the rows that broke it, or
        every month where no row is to blame (a rule on the table as a whole)."""
        if self.success or not self.by_month:
            return self
        count, examples = self.by_month.get(month, (0, []))
        return replace(self, success=not count, unexpected_count=count, examples=examples, by_month={})


def suite_path(folder: str, table: str) -> Path:
    return EXPECTATIONS_DIR / folder / f"{table}.json"


def load_suite(folder: str, table: str, seeds_dir: Path = SEEDS_DIR) -> dict:
    return with_seed_values(json.loads(suite_path(folder, table).read_text(encoding="utf-8")), seeds_dir)


SEED = "$seed"  # {"$seed": "programs.program_code"}: the codes of a seed's column


def with_seed_values(suite: dict, seeds_dir: Path = SEEDS_DIR) -> dict:
    """The suite with every `{"$seed": "<seed>.<column>"}` in a value set replaced by that column's
    values in `seeds/<seed>.csv`, read as the suite loads: a code added to a seed is accepted by
    the gates at once, and no suite repeats a seed's codes. Other values of the set stay beside
    them, e.g. `[{"$seed": "organisations.organisation_code"}, "DIRECT"]`."""

    def values(item) -> list:
        return seed_values(seeds_dir, item[SEED]) if _names_seed(item) else [item]

    def resolved(value):
        if _names_seed(value):
            return values(value)
        return [v for item in value for v in values(item)] if isinstance(value, list) else value

    expectations = [{**e, "kwargs": {k: resolved(v) for k, v in e["kwargs"].items()}} for e in suite["expectations"]]
    return {**suite, "expectations": expectations}


def _names_seed(value) -> bool:
    return isinstance(value, dict) and set(value) == {SEED}


def seed_values(seeds_dir: Path, reference: str) -> list[str]:
    """The values of `<seed>.<column>`, in the seed's order, each once (as text: the seeds' codes are text)."""
    seed, column = reference.split(".")
    with (seeds_dir / f"{seed}.csv").open(encoding="utf-8", newline="") as file:
        return list(dict.fromkeys(row[column] for row in csv.DictReader(file)))


def suite_columns(suite: dict) -> list[str]:
    columns: list[str] = []
    for expectation in suite["expectations"]:
        for name in _expectation_columns(expectation["kwargs"]):
            if name not in columns:
                columns.append(name)
    return columns


# GX loads its optional Spark support on import, Spark Connect included. Importing
# pyspark.sql.connect calls sys.exit(0) when `__main__` has no file (a guard for pyspark's own
# doctests) and Spark Connect's packages are missing, as in Dagster's step subprocesses; anywhere
# else that import raises ImportError and GX goes without Spark Connect. Hiding the module while GX
# loads gives that outcome in every process: the suites validate pandas frames, never Spark.
SPARK_CONNECT = "pyspark.sql.connect"


def _import_great_expectations():
    if "great_expectations" in sys.modules or SPARK_CONNECT in sys.modules:
        import great_expectations as gx

        return gx
    sys.modules[SPARK_CONNECT] = None  # importing it, or a module in it, now raises ImportError
    try:
        import great_expectations as gx
    finally:
        del sys.modules[SPARK_CONNECT]
    return gx


def validate_frame(
    frame: pd.DataFrame, suite: dict, row_column: str | None = None, month_column: str | None = None
) -> list[RuleOutcome]:
    """Validate `frame` with `suite`. With `row_column` (a column of `frame` naming each row: file,
    line, key), an example of a failed rule is the row's name, with the value only where the column
    holds no personal data; without it, the value itself (a mart's loan or group id). With
    `month_column` (each row's landing month), a failed rule also counts its rows month by month."""
    gx = _import_great_expectations()  # costs seconds: only when a check runs
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # noise in run logs
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(suite["name"])
        .add_batch_definition_whole_dataframe("whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    expectation_suite = gx.ExpectationSuite(
        name=suite["name"], expectations=suite["expectations"], meta=suite.get("meta")
    )
    # COMPLETE lists every row that broke a rule, for the months; SUMMARY only the first few
    result_format = "COMPLETE" if month_column else "SUMMARY"
    result = batch.validate(
        expectation_suite, result_format={"result_format": result_format, "partial_unexpected_count": EXAMPLES_PER_RULE}
    )
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        outcomes.append(
            RuleOutcome(
                rule=(config.meta or {}).get("rule", config.type),
                expectation=config.type,
                success=bool(item.success),
                unexpected_count=int(details.get("unexpected_count") or 0),
                examples=_examples(frame, config.kwargs, details, row_column),
                by_month=_by_month(frame, config.kwargs, details, row_column, month_column) if month_column else {},
            )
        )
    return outcomes


def _examples(frame: pd.DataFrame, kwargs: dict, details: dict, row_column: str | None) -> list:
    return _named_examples(
        frame,
        kwargs,
        details.get("partial_unexpected_list") or [],
        details.get("partial_unexpected_index_list") or [],
        row_column,
    )


def _by_month(frame: pd.DataFrame, kwargs: dict, details: dict, row_column: str | None, month_column: str) -> dict:
    """The rows that broke a rule, month by month: {month: (rows, examples)}. None named (a rule on
    the table as a whole): no month to blame."""
    months: dict[str, list] = {}
    for row in details.get("unexpected_index_list") or []:  # every row (GX cuts unexpected_list at 200)
        months.setdefault(str(frame.at[row, month_column]), []).append(row)
    columns = _expectation_columns(kwargs)

    def values(rows: list) -> list:
        return [frame.at[row, columns[0]] for row in rows[:EXAMPLES_PER_RULE]] if len(columns) == 1 else []

    return {
        month: (len(rows), _named_examples(frame, kwargs, values(rows), rows, row_column))
        for month, rows in sorted(months.items())
    }


def _named_examples(frame: pd.DataFrame, kwargs: dict, values: list, rows: list, row_column: str | None) -> list:
    values = values[:EXAMPLES_PER_RULE]
    columns = _expectation_columns(kwargs)
    personal = bool(PERSONAL_COLUMNS & set(columns))
    if row_column is None:
        return [] if personal else ["empty" if _missing(v) else _plain(v) for v in values]
    rows = rows[:EXAMPLES_PER_RULE]
    names = [str(frame.at[index, row_column]) for index in rows]
    if personal or len(values) != len(names):
        return names
    shown = columns[0] if len(columns) == 1 else "values"
    return [
        f"{name} {shown} empty" if _missing(value) else f"{name} {shown}={_plain(value)}"
        for name, value in zip(names, values)
    ]


def _missing(value) -> bool:
    """A null as pandas hands it over (None, NaN, NaT): shown as `empty`, never as `nan`."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or a dict (a compound key's values)
        return False


def _expectation_columns(kwargs: dict) -> list[str]:
    names = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *kwargs.get("column_list", [])]
    return [n for n in names if n]


def _plain(value):
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


# Expectations decided row by row: validated on the distinct rows they read, they pass or fail
# exactly as on every row (a failure is re-validated on every row for exact counts and examples).
ROW_WISE = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
    "expect_column_value_lengths_to_be_between",
}


def _row_wise(suite: dict) -> bool:
    return all(e["type"] in ROW_WISE and e["kwargs"].get("mostly", 1) == 1 for e in suite["expectations"])


def _null_only_columns(suite: dict) -> set[str]:
    """Columns only checked for nulls: their values matter only as null or not (e.g. an id)."""
    uses: dict[str, set[str]] = {}
    for e in suite["expectations"]:
        for name in _expectation_columns(e["kwargs"]):
            uses.setdefault(name, set()).add(e["type"])
    return {c for c, types in uses.items() if types == {"expect_column_values_to_not_be_null"}}


def validate_table(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    months: list[str] | None = None,
    suite_folder: str | None = None,
    as_of_from: date | None = None,
    seeds_dir: Path = SEEDS_DIR,
) -> list[RuleOutcome]:
    """Validate a table, or only the rows loaded from the landing files of `months` (YYYY-MM), or
    only its month-ends from `as_of_from` on, with the suite
    `expectations/<suite_folder or schema>/<table>.json` (its value sets read from `seeds_dir`)."""
    suite = load_suite(suite_folder or schema, table, seeds_dir)
    names = suite_columns(suite)
    columns = ", ".join(f'"{c}"' for c in names) or "1 as row_present"
    where, params = "", []
    if months is not None:
        where, params = f"where {FILE_MONTH} = any(?::varchar[])", [months]
    elif as_of_from is not None:
        where, params = "where as_of_date >= ?", [as_of_from]
    relation = f"{schema}.{table}"

    def frame(select: str) -> pd.DataFrame:
        return conn.execute(f"{select} from {relation} {where}", params).arrow().read_all().to_pandas()

    every_row = not (names and _row_wise(suite))
    if not every_row:
        null_only = _null_only_columns(suite)
        flags = ", ".join(
            f'case when "{c}" is null then null else \'present\' end as "{c}"' if c in null_only else f'"{c}"'
            for c in names
        )
        outcomes = validate_frame(frame(f"select distinct {flags}"), suite)
    else:
        outcomes = validate_frame(frame(f"select {columns}"), suite)
    if all(o.success for o in outcomes):
        return outcomes
    # A failure is validated again with each row's name (only then: the names cost memory), for
    # exact counts and examples that name rows rather than show personal data, and with each row's
    # month where several months are validated together, for the months that failed.
    row_name = _row_name_expression(conn, relation, schema, table, suite)
    named = [f'{row_name} as "{ROW_NAME}"'] if row_name else []
    by_month = [f'{FILE_MONTH} as "{ROW_MONTH}"'] if months is not None else []
    if not named and not by_month and every_row:
        return outcomes
    return validate_frame(
        frame(f"select {', '.join([columns, *named, *by_month])}"),
        suite,
        ROW_NAME if named else None,
        ROW_MONTH if by_month else None,
    )


ROW_NAME = "__row__"  # columns the suites never name
ROW_MONTH = "__month__"
# The landing month of a ledger row, from its file's name (`transactions_08_2024-06.parquet`)
FILE_MONTH = f"regexp_extract(source_file, '{MONTH_IN_NAME}', 1)"


def _row_name_expression(
    conn: duckdb.DuckDBPyConnection, relation: str, schema: str, table: str, suite: dict | None = None
) -> str | None:
    """SQL naming a row by its landing file and line and its key, e.g.
    `borrowers/08/borrowers_08.csv:17 borrower_id=B17`, or a mart's row by its grain (the suite's
    `"meta": {"row_key": [...]}`), e.g. `as_of_date=2024-06-30 province_code=08`; None where the
    relation has none of them."""
    present = {d[0] for d in conn.execute(f"select * from {relation} limit 0").description}
    row_key = [
        k for k in ((suite or {}).get("meta") or {}).get("row_key", []) if k in present and k not in PERSONAL_COLUMNS
    ]
    if row_key:
        return (
            "concat_ws(' ', "
            + ", ".join(f"'{k}=' || coalesce(cast(\"{k}\" as varchar), 'empty')" for k in row_key)
            + ")"
        )
    source = LANDING_SOURCES.get(table) if schema == "raw" else None
    keys = [k for k in (source.key if source else ()) if k in present and k not in PERSONAL_COLUMNS]
    parts = [f"'{k}=' || coalesce(\"{k}\", 'empty')" for k in keys]
    if "source_file" in present:
        parts.insert(0, "source_file || ':' || source_line" if "source_line" in present else "source_file")
    return f"concat_ws(' ', {', '.join(parts)})" if parts else None


QUALITY_RESULTS_DDL = """
create schema if not exists audit;
create table if not exists audit.quality_results (
    checked_at timestamp, run_id varchar, guarded_table varchar, partition_key varchar,
    rule varchar, expectation varchar, passed boolean, unexpected_count bigint, examples varchar
)"""


def record_outcomes(
    conn: duckdb.DuckDBPyConnection,
    guarded_table: str,
    outcomes: list[RuleOutcome],
    run_id: str,
    partition_key: str | None,
) -> None:
    conn.execute(QUALITY_RESULTS_DDL)
    conn.executemany(
        "insert into audit.quality_results values (current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                guarded_table,
                partition_key,
                o.rule,
                o.expectation,
                o.success,
                o.unexpected_count,
                json.dumps(o.examples, ensure_ascii=False),
            ]
            for o in outcomes
        ],
    )
