"""Published copies of the warehouse, for readers that must not open the live DuckDB file:

- the raw tables dbt reads as sources (dbt/models/staging/_sources.yml), one Parquet file a table
  under <published>/raw/, for engines that cannot open the DuckDB file
  (Spark: dbt/macros/spark/register_published_sources.sql);
- every mart, for planners and their tools (outputs/plan/): each build writes a fresh folder and
  then swings the `marts` link to it in one rename, so a reader sees the old set or the new, whole.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from dagster_project.settings import DBT_PROJECT_DIR

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"


@dataclass(frozen=True)
class SourceTable:
    schema: str
    name: str

    def published_path(self, published_dir: Path) -> Path:
        return published_dir / self.schema / f"{self.name}.parquet"


def published_key(schema: str, table: str) -> dg.AssetKey:
    """The Dagster asset of a table's published copy."""
    return dg.AssetKey(["published", schema, table])


def source_tables(sources_yml: Path = SOURCES_YML) -> list[SourceTable]:
    """Every table dbt declares as a source, with the schema it lives in."""
    spec = yaml.safe_load(sources_yml.read_text(encoding="utf-8"))
    tables = []
    for source in spec.get("sources", []):
        schema = source.get("schema", source["name"])
        for table in source.get("tables", []):
            tables.append(SourceTable(schema, table.get("identifier", table["name"])))
    return tables


def publish_raw_tables(
    conn: duckdb.DuckDBPyConnection, published_dir: Path, tables: list[SourceTable] | None = None
) -> dict[str, int]:
    """Write each source table to <published_dir>/<schema>/<table>.parquet; rows written per table.
    A file is written beside its final name and renamed, so a reader never sees half a file."""
    written = {}
    for table in tables if tables is not None else source_tables():
        path = table.published_path(published_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        # COPY answers with the rows it wrote: no second scan to count them
        [(written[f"{table.schema}.{table.name}"],)] = conn.execute(
            f"copy {table.schema}.{table.name} to '{partial}' (format parquet, compression zstd)"
        ).fetchall()
        os.replace(partial, path)
    return written


MARTS_LINK = "marts"
KEEP_VERSIONS = 2  # the current set and the one before, which a reader may still have open


def published_mart(published_dir: Path, mart: str) -> Path:
    return published_dir / MARTS_LINK / f"{mart}.parquet"


def publish_marts(conn: duckdb.DuckDBPyConnection, published_dir: Path) -> dict[str, int]:
    """Copy every mart_* table to a new version folder, then point `marts` at it; rows per mart."""
    marts = [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'main' and table_name like 'mart\\_%' escape '\\' order by 1"
        ).fetchall()
    ]
    version = published_dir / f"{MARTS_LINK}-{time.time_ns():020d}"  # names sort in the order written
    version.mkdir(parents=True)
    rows = {}
    for mart in marts:
        [(rows[mart],)] = conn.execute(
            f"copy main.{mart} to '{version / f'{mart}.parquet'}' (format parquet, compression zstd)"
        ).fetchall()
    link, staged = published_dir / MARTS_LINK, published_dir / f".{MARTS_LINK}.next"
    staged.unlink(missing_ok=True)
    staged.symlink_to(version.name)
    os.replace(staged, link)
    for old in sorted(published_dir.glob(f"{MARTS_LINK}-*"))[:-KEEP_VERSIONS]:
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
    return rows
