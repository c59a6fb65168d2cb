"""Published copies of the marts: what planners and their tools read, never the live warehouse
file, so an export works while a load writes it. Each build writes a fresh folder of Parquet files
and then swings the `marts` link to it in one rename: a reader sees the old set or the new, whole."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb

MARTS_LINK = "marts"
KEEP_VERSIONS = 2  # the current set and the one before, which a reader may still have open


def published_mart(published_dir: Path, mart: str) -> Path:
    return published_dir / MARTS_LINK / f"{mart}.parquet"


def publish_marts(conn: duckdb.DuckDBPyConnection, published_dir: Path) -> dict[str, int]:
    """Copy every mart_* table to a new version folder, then point `marts` at it; rows per mart."""
    marts = [name for (name,) in conn.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_name like 'mart\\_%' escape '\\' order by 1"
    ).fetchall()]
    version = published_dir / f"{MARTS_LINK}-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
    version.mkdir(parents=True)
    rows = {}
    for mart in marts:
        conn.execute(f"copy main.{mart} to '{version / f'{mart}.parquet'}' (format parquet, compression zstd)")
        rows[mart] = conn.execute(f"select count(*) from main.{mart}").fetchone()[0]
    link, staged = published_dir / MARTS_LINK, published_dir / f".{MARTS_LINK}.next"
    staged.unlink(missing_ok=True)
    staged.symlink_to(version.name)
    os.replace(staged, link)
    for old in sorted(published_dir.glob(f"{MARTS_LINK}-*"))[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return rows
