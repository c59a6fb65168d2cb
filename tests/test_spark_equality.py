"""The same dbt project on Spark gives the same warehouse as on DuckDB.

A small sample is built on DuckDB through the normal pipeline (Dagster: ingestion, GX gates, dbt);
then the marts job runs again with PCW_DBT_TARGET=spark: it publishes the raw tables as Parquet and
runs `dbt build --target spark` (a local Spark inside dbt) over them, dbt tests included. Every model
dbt materialises as a table (every mart and intermediate model, found in the manifest, so models
added later are compared too) is then read from both engines and compared row by row.

Spark's tables are read by DuckDB from the Parquet files under Spark's warehouse folder: no second
Spark start, and the files are what a cluster's readers would get too.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.cli.build import build_warehouse
from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from dagster_project.warehouse.publish import source_tables
from sample_data import GenerationConfig, generate

pytestmark = pytest.mark.spark

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17 (java not found)", allow_module_level=True)

# Two communes over 2025: the ledger crosses the 1 July 2025 reorganisation, so restated communes,
# splits and both commune eras are in the comparison.
SAMPLE = GenerationConfig(communes=2, start_year=2025, end_year=2025)

# Ratios are DOUBLE on DuckDB (it divides decimals in double precision, ~1e-16 relative) and
# DECIMAL(38,12) on Spark (exact division rounded at the 12th decimal, ±5e-13): they agree to 1e-11.
# Every other number (integer VND amounts, counts, rounded scores, rates) must be equal exactly.
FRACTION_ABS_TOL = 1e-11
FRACTION_REL_TOL = 1e-12


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    data = tmp_path_factory.mktemp("pcw_spark")
    settings = Settings(data_dir=data, landing_dir=data / "landing", warehouse_path=data / "warehouse.duckdb")
    generate(settings.landing_dir, SAMPLE)
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        duckdb_build = build_warehouse(settings, instance)
    duckdb_seconds = time.perf_counter() - started
    assert duckdb_build.success, "\n".join(duckdb_build.failures())

    # The same definitions with the Spark target, through `pcw marts` in a process of its own that
    # reads its settings from its environment, as a deployment does.
    env = {
        **os.environ,
        "PCW_DATA_DIR": str(settings.data_dir),
        "PCW_LANDING_DIR": str(settings.landing_dir),
        "PCW_WAREHOUSE": str(settings.warehouse_path),
        "PCW_PUBLISHED_DIR": str(settings.published_dir),
        "PCW_SPARK_DIR": str(settings.spark_dir),
        "PCW_DBT_TARGET": "spark",
        "PCW_SPARK_DRIVER_MEMORY": "1g",
    }
    env.pop("DAGSTER_HOME", None)  # an ephemeral instance, as for the DuckDB build above
    started = time.perf_counter()
    spark_build = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "marts"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    spark_seconds = time.perf_counter() - started
    assert spark_build.returncode == 0, spark_build.stdout[-4000:] + spark_build.stderr[-4000:]
    assert "on dbt target spark" in spark_build.stdout
    # shown with `pytest -s`: the DuckDB figure includes generation-free ingestion, GX gates and dbt
    print(
        f"\nbuild times: DuckDB (whole pipeline) {duckdb_seconds:.0f} s, "
        f"Spark (publish + dbt build) {spark_seconds:.0f} s"
    )
    return settings


def table_models() -> list[dict]:
    """Every model the manifest has, with how it is materialised."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def spark_table_dir(settings: Settings, model: dict) -> Path:
    """Where Spark keeps a managed table: <warehouse>/<database>.db/<table>."""
    warehouse = settings.spark_dir / "warehouse"
    name = model["alias"] or model["name"]
    return warehouse / name if model["schema"] == "default" else warehouse / f"{model['schema']}.db" / name


def kind(type_name: str) -> str:
    t = type_name.upper()
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer"
    if t.startswith("DECIMAL") or t in ("DOUBLE", "FLOAT", "REAL"):
        return "fraction"
    if t in ("VARCHAR", "BLOB"):
        return "text"
    return t.lower()  # DATE, TIMESTAMP, BOOLEAN: must be the same type on both


def read_both(settings: Settings, model: dict) -> tuple[list[tuple], list[tuple], list[str], list[str]]:
    """The model's rows from the DuckDB file and from Spark's Parquet files, columns in DuckDB's order,
    and the column kinds on each side."""
    name = model["alias"] or model["name"]
    parquet = f"read_parquet('{spark_table_dir(settings, model)}/**/*.parquet', hive_partitioning = true)"
    with duckdb.connect() as conn:
        conn.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        duck_columns = conn.execute(f"describe warehouse.{model['schema']}.{name}").fetchall()
        if not any(spark_table_dir(settings, model).rglob("*.parquet")):  # an empty table may have no file
            assert spark_table_dir(settings, model).is_dir(), f"{name}: no table on Spark"
            duck_rows = conn.execute(f"select * from warehouse.{model['schema']}.{name}").fetchall()
            return duck_rows, [], [], []
        spark_columns = {c[0]: c[1] for c in conn.execute(f"describe select * from {parquet}").fetchall()}
        names = [c[0] for c in duck_columns]
        assert set(spark_columns) == set(names), (
            f"{name}: columns {sorted(names)} on DuckDB, {sorted(spark_columns)} on Spark"
        )
        select = ", ".join(f'"{n}"' for n in names)
        duck_rows = conn.execute(f"select {select} from warehouse.{model['schema']}.{name}").fetchall()
        spark_rows = conn.execute(f"select {select} from {parquet}").fetchall()
    return duck_rows, spark_rows, [kind(c[1]) for c in duck_columns], [kind(spark_columns[n]) for n in names]


def sort_key(row: tuple) -> tuple:
    return tuple((value is None, value if value is not None else 0) for value in row)


def same_value(a, b, column_kind: str) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if column_kind == "fraction" and (isinstance(a, float) or isinstance(b, float)):
        return math.isclose(float(a), float(b), rel_tol=FRACTION_REL_TOL, abs_tol=FRACTION_ABS_TOL)
    return a == b  # ints, Decimals (exact, whatever the scale), text, dates, booleans


def compare(settings: Settings, model: dict) -> list[str]:
    name = model["alias"] or model["name"]
    duck_rows, spark_rows, duck_kinds, spark_kinds = read_both(settings, model)
    problems = (
        []
        if not spark_kinds
        else [
            f"{name}: column {i} is {d} on DuckDB, {s} on Spark"
            for i, (d, s) in enumerate(zip(duck_kinds, spark_kinds))
            if d != s
        ]
    )
    if len(duck_rows) != len(spark_rows):
        return [*problems, f"{name}: {len(duck_rows)} rows on DuckDB, {len(spark_rows)} on Spark"]
    # Sorted on every column, the exact ones first, so a float's last digits never decide the order.
    order = sorted(range(len(duck_kinds)), key=lambda i: duck_kinds[i] == "fraction")
    duck_sorted = sorted(duck_rows, key=lambda r: sort_key(tuple(r[i] for i in order)))
    spark_sorted = sorted(spark_rows, key=lambda r: sort_key(tuple(r[i] for i in order)))
    for duck_row, spark_row in zip(duck_sorted, spark_sorted):
        for i, column_kind in enumerate(duck_kinds):
            if not same_value(duck_row[i], spark_row[i], column_kind):
                problems.append(f"{name}: row {duck_row} on DuckDB, {spark_row} on Spark (column {i})")
                break
        if len(problems) > 5:
            break
    return problems


def test_every_table_model_is_identical_on_spark(builds):
    settings = builds
    # the recompute models are each engine's own bookkeeping (what a DuckDB build recomputed)
    models = [
        m
        for m in table_models()
        if m["config"]["materialized"] in ("table", "incremental") and m["fqn"][1] != "recompute"
    ]
    marts = [m for m in table_models() if m["fqn"][1] == "marts"]
    # every mart is compared: one materialised otherwise would have no files to read
    assert marts and {m["name"] for m in marts} <= {m["name"] for m in models}
    compared, problems = [], []
    for model in models:
        problems += compare(settings, model)
        compared.append(model["name"])
    assert not problems, "\n".join(problems)
    assert len(compared) == len(models)


def test_the_comparison_sees_rows_and_amounts(builds):
    """The equality above is not vacuous: the marts hold rows, and a changed amount is caught."""
    settings = builds
    model = next(m for m in table_models() if m["name"] == "mart_outstanding_balance")
    duck_rows, spark_rows, kinds, _ = read_both(settings, model)
    assert len(duck_rows) > 100 and sum(r[kinds.index("integer")] or 0 for r in spark_rows) != 0
    column = kinds.index("integer")
    assert not same_value(duck_rows[0][column], duck_rows[0][column] + 1, "integer")
    assert not same_value(Decimal("0.333333333333"), Decimal("0.333333333334"), "fraction")
    assert same_value(1 / 3, Decimal("0.333333333333"), "fraction")


def test_spark_read_the_published_raw_tables(builds):
    """Spark's sources are the Parquet files published from the DuckDB raw tables, every one of them."""
    settings = builds
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        for table in source_tables():
            path = table.published_path(settings.published_dir)
            assert path.exists(), path
            loaded = conn.execute(f"select count(*) from {table.schema}.{table.name}").fetchone()[0]
            published = conn.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
            assert published == loaded, table
