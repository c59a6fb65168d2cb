"""Settings are read once from the environment and handed on: to Dagster as resources, to dbt as
vars. Nothing writes the environment, and importing the definitions does no work."""

import json
import subprocess
import sys

import pytest

from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

pytestmark = pytest.mark.unit


def test_the_dbt_target_comes_from_the_environment():
    assert Settings.from_env({}).dbt_target == "duckdb"
    assert Settings.from_env({"PCW_DBT_TARGET": "spark"}).dbt_target == "spark"
    with pytest.raises(ValueError, match="PCW_DBT_TARGET"):
        Settings.from_env({"PCW_DBT_TARGET": "postgres"})


def test_dbt_gets_the_paths_and_the_memory_cap_of_the_settings(tmp_path):
    settings = Settings.from_env(
        {"PCW_DATA_DIR": str(tmp_path), "PCW_WAREHOUSE": str(tmp_path / "w.duckdb"), "PCW_DUCKDB_MEMORY_LIMIT": "3GB"}
    )
    assert settings.dbt_vars() == {
        "warehouse_path": str(tmp_path / "w.duckdb"),
        "duckdb_memory_limit": "3GB",
        "published_dir": str(tmp_path / "published"),
        "spark_dir": str(tmp_path / "spark"),
    }
    assert Settings.from_env({}).dbt_vars()["duckdb_memory_limit"] == "10GB"


def test_the_resources_carry_the_settings_they_were_built_from(tmp_path):
    from dagster_project.defs.resources import build_resources, dbt_project

    settings = Settings(
        data_dir=tmp_path, landing_dir=tmp_path / "in", warehouse_path=tmp_path / "w.duckdb", duckdb_memory_limit="3GB"
    )
    resources = build_resources(settings, dbt_project("duckdb"))
    assert resources["warehouse"].database == str(tmp_path / "w.duckdb")
    assert resources["warehouse"].connection_config == {"memory_limit": "3GB"}
    assert resources["landing"].root == tmp_path / "in"
    assert resources["published"].root == tmp_path / "published"
    assert resources["dbt"].settings_vars == settings.dbt_vars()


IMPORT_THE_DEFINITIONS = """
import json, os, subprocess, sys
from pathlib import Path

manifest = Path(sys.argv[1])
before = (dict(os.environ), manifest.stat().st_mtime_ns if manifest.exists() else None)
started = []
popen = subprocess.Popen.__init__
def recorded(self, args, *rest, **kw):
    if "dbt" in str(args):
        started.append(str(args))
    popen(self, args, *rest, **kw)
subprocess.Popen.__init__ = recorded

import dagster_project.definitions as definitions

after = (dict(os.environ), manifest.stat().st_mtime_ns if manifest.exists() else None)
print(json.dumps({"environ_unchanged": before[0] == after[0], "manifest_unchanged": before[1] == after[1],
                  "dbt_started": started, "lazy": type(definitions.defs).__name__}))
"""


def test_importing_the_definitions_writes_no_environment_and_runs_no_dbt():
    """In a fresh process, as the code server imports them: the environment as it was, no dbt
    process started (dbt parse), the manifest untouched; the definitions are built when Dagster loads them."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    child = subprocess.run(
        [sys.executable, "-c", IMPORT_THE_DEFINITIONS, str(manifest)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(child.stdout.splitlines()[-1]) == {
        "environ_unchanged": True,
        "manifest_unchanged": True,
        "dbt_started": [],
        "lazy": "LazyDefinitions",
    }
