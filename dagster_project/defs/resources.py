"""Resources: the settings as the assets, checks and sensors take them. The DuckDB warehouse and
dbt are pointed at the same file by one setting; each folder a step writes or reads is its own
resource, so a definition says what it touches."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from dagster_project.settings import DBT_PROJECT_DIR, Settings


class Folder(dg.ConfigurableResource):
    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class LandingFolder(Folder):
    """The folder branch systems drop their extract files into (docs/data-contract.md)."""


class PublishedFolder(Folder):
    """Where the published copies go: raw tables for other engines, marts for planners (publish.py)."""


class AlertLog(dg.ConfigurableResource):
    """The file the data team watches for failed runs."""

    path: str

    def write(self, message: str) -> None:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(message)


class WarehouseDbt(DbtCliResource):
    """dbt on the warehouse. The settings dbt/profiles.yml reads (the warehouse file, the memory
    cap, Spark's folders) go with every build as dbt vars: the dbt process takes none of them from
    the environment."""

    settings_vars: dict[str, str]


# the dbt installed beside this Python, whatever PATH says
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


def dbt_project(target: str) -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=target)
    # `dagster dev` re-parses on load; every other entry point parses when the manifest is missing
    # or older than the project's files (a pulled model would otherwise be unknown to Dagster).
    project.prepare_if_dev()
    if _manifest_is_stale(project.manifest_path):
        # dagster-dbt's preparer starts `dbt` from PATH: make it the one beside this Python, as
        # the builds do (`.venv/bin/pcw` run from a shell whose PATH lacks the environment)
        os.environ["PATH"] = os.pathsep.join([str(DBT_EXECUTABLE.parent), os.environ.get("PATH", "")])
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
    return {
        "warehouse": DuckDBResource(
            database=str(settings.warehouse_path), connection_config={"memory_limit": settings.duckdb_memory_limit}
        ),
        "landing": LandingFolder(path=str(settings.landing_dir)),
        "published": PublishedFolder(path=str(settings.published_dir)),
        "alerts": AlertLog(path=str(settings.data_dir / "alerts.log")),
        "dbt": WarehouseDbt(
            project_dir=project,
            dbt_executable=str(DBT_EXECUTABLE),
            settings_vars=settings.dbt_vars(),
        ),
    }
