"""Resources: the DuckDB warehouse and dbt, both pointed at the same file by one setting."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from dagster_project.settings import DBT_PROJECT_DIR, DUCKDB_MEMORY_LIMIT, Settings, dbt_target


class LandingFolder(dg.ConfigurableResource):
    """The folder branch systems drop their extract files into (docs/data-contract.md)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())
    # `dagster dev` re-parses on load; every other entry point parses when the manifest is missing
    # or older than the project's files (a pulled model would otherwise be unknown to Dagster).
    project.prepare_if_dev()
    if _manifest_is_stale(project.manifest_path):
        project.preparer.prepare(project)
    return project


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    sources = [*DBT_PROJECT_DIR.glob("*.yml"), *(DBT_PROJECT_DIR.parent / "seeds").glob("*")]
    for folder in ("models", "macros", "tests"):
        sources += (DBT_PROJECT_DIR / folder).rglob("*")
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in sources if path.is_file())


def build_resources(settings: Settings, project: DbtProject) -> dict:
    settings.export_to_env()  # dbt's profile reads PCW_WAREHOUSE
    return {
        "warehouse": DuckDBResource(database=str(settings.warehouse_path), connection_config={"memory_limit": DUCKDB_MEMORY_LIMIT}),
        "landing": LandingFolder(path=str(settings.landing_dir)),
        # the dbt installed beside this Python, whatever PATH says
        "dbt": DbtCliResource(project_dir=project, dbt_executable=str(Path(sys.executable).parent / "dbt")),
    }
