"""Raw tables published as Parquet, one file a table, for engines that cannot open the DuckDB file
(Spark reads them as its `raw` sources: dbt/macros/spark_sources.sql). The tables are every source
that dbt's staging models read (dbt/models/staging/_sources.yml), so a new source is published too."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


def source_tables(sources_yml: Path = SOURCES_YML) -> list[SourceTable]:
    """Every table dbt declares as a source, with the schema it lives in."""
    spec = yaml.safe_load(sources_yml.read_text(encoding="utf-8"))
    tables = []
    for source in spec.get("sources", []):
        schema = source.get("schema", source["name"])
        for table in source.get("tables", []):
            tables.append(SourceTable(schema, table.get("identifier", table["name"])))
    return tables


def publish_raw_tables(conn: duckdb.DuckDBPyConnection, published_dir: Path, tables: list[SourceTable] | None = None) -> dict[str, int]:
    """Write each source table to <published_dir>/<schema>/<table>.parquet; rows written per table.
    A file is written beside its final name and renamed, so a reader never sees half a file."""
    written = {}
    for table in tables if tables is not None else source_tables():
        path = table.published_path(published_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        conn.execute(f"copy {table.schema}.{table.name} to '{partial}' (format parquet, compression zstd)")
        os.replace(partial, path)
        written[f"{table.schema}.{table.name}"] = conn.execute(f"select count(*) from {table.schema}.{table.name}").fetchone()[0]
    return written
