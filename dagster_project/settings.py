"""Where the warehouse lives and how it runs. The entry point reads the settings from the
environment once (the CLI, or the definitions the code server loads) and hands them on: to Dagster
as resources (defs/resources.py), to dbt as vars on its command line (dbt/profiles.yml). No module
writes the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dagster_project.domain.months import LedgerMonth

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = PROJECT_ROOT / "seeds"

# Who answers for every asset (Dagster's owners): the data team.
DATA_TEAM = "team:data"

# Every step that opens the DuckDB file for writing runs in this pool, sized 1 (dagster.yaml),
# because DuckDB allows one writing process per file.
WAREHOUSE_POOL = "duckdb_warehouse"

# DuckDB takes 80 % of the machine's memory by default; a cap makes big joins spill to disk
# instead. The loaders and dbt both take it from Settings.
DUCKDB_MEMORY_LIMIT = "10GB"

# dbt targets (dbt/profiles.yml): the embedded DuckDB file, or Spark reading the published Parquet.
DBT_TARGETS = ("duckdb", "spark", "spark_cluster")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    # raw tables as Parquet for engines other than DuckDB (publish.py); Spark's own files (local target)
    published_dir: Path | None = None
    spark_dir: Path | None = None
    # the first monthly ledger partition (YYYY-MM); None: the earliest month in the landing folder
    first_ledger_month: str | None = None
    dbt_target: str = "duckdb"  # the engine dbt builds on
    duckdb_memory_limit: str = DUCKDB_MEMORY_LIMIT

    def __post_init__(self) -> None:
        if self.published_dir is None:
            object.__setattr__(self, "published_dir", self.data_dir / "published")
        if self.spark_dir is None:
            object.__setattr__(self, "spark_dir", self.data_dir / "spark")
        if self.first_ledger_month is not None:
            try:
                LedgerMonth.parse(self.first_ledger_month)
            except ValueError:
                raise ValueError(
                    f"PCW_FIRST_LEDGER_MONTH={self.first_ledger_month!r}: expected a month as YYYY-MM"
                ) from None
        if self.dbt_target not in DBT_TARGETS:
            raise ValueError(f"PCW_DBT_TARGET={self.dbt_target!r}: expected one of {', '.join(DBT_TARGETS)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the PCW_* variables of `environ` give (README.md, *Settings*)."""
        data_dir = Path(environ.get("PCW_DATA_DIR", PROJECT_ROOT / "data")).resolve()
        return cls(
            data_dir=data_dir,
            landing_dir=Path(environ.get("PCW_LANDING_DIR", data_dir / "landing")).resolve(),
            warehouse_path=Path(environ.get("PCW_WAREHOUSE", data_dir / "warehouse.duckdb")).resolve(),
            published_dir=Path(environ.get("PCW_PUBLISHED_DIR", data_dir / "published")).resolve(),
            spark_dir=Path(environ.get("PCW_SPARK_DIR", data_dir / "spark")).resolve(),
            first_ledger_month=environ.get("PCW_FIRST_LEDGER_MONTH") or None,
            dbt_target=environ.get("PCW_DBT_TARGET", "duckdb"),
            duckdb_memory_limit=environ.get("PCW_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT),
        )

    def dbt_vars(self) -> dict[str, str]:
        """What dbt's profile and macros read (dbt/profiles.yml, macros/spark_sources.sql), passed
        on every dbt build as `--vars`: the one way the settings reach the dbt process."""
        return {
            "warehouse_path": str(self.warehouse_path),
            "duckdb_memory_limit": self.duckdb_memory_limit,
            "published_dir": str(self.published_dir),
            "spark_dir": str(self.spark_dir),
        }


LOCK_WAIT_SECONDS = 60


def read_warehouse(path: Path, wait_seconds: float = LOCK_WAIT_SECONDS, say=print):
    """A read-only connection to the warehouse file. DuckDB lets no reader in while a load or build
    writes it: wait for the writer (saying so once), then give up with a clear error."""
    import time

    import duckdb

    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"The warehouse {path} is still being written by a load or build after {wait_seconds:.0f} s; "
                    "try again when it finishes (planners can read the published copies meanwhile)"
                ) from None
            if not told:
                say(f"The warehouse is being written by a load or build; waiting up to {wait_seconds:.0f} s …")
                told = True
            time.sleep(1)


class WarehouseBusy(Exception):
    """A writer held the warehouse file for longer than a reader waits."""
