"""Warehouses built from generated samples, shared by the test modules that read them."""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli.build import BuildResult, build_warehouse
from dagster_project.cli.progress import BuildProgress
from dagster_project.ingest.rules import load_date
from dagster_project.settings import Settings
from sample_data import GenerationConfig, generate

# 3 communes of the reference province, 2024-2025: both sides of the 2025 reorganisation
SMALL_SAMPLE = GenerationConfig(communes=3, start_year=2024, end_year=2025)

# pyproject.toml describes them; `make check` runs the unit tier
TIERS = ("unit", "integration", "e2e", "spark")
# modules reading the session's small warehouse go to one pytest-xdist worker, so it is built once
SHARED_WAREHOUSE = "small_warehouse"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test module states its tier (`pytestmark`), so that a new test is never left out of one.
    Under pytest-xdist (`--dist loadgroup`) a module runs whole on one worker, its module fixtures
    built once; the modules sharing the small warehouse run together."""
    untiered = sorted({item.path.name for item in items if not any(item.get_closest_marker(t) for t in TIERS)})
    if untiered:
        raise pytest.UsageError(f"test modules without a tier ({', '.join(TIERS)}): {', '.join(untiered)}")
    sharing = {item.path for item in items if SHARED_WAREHOUSE in getattr(item, "fixturenames", ())}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(SHARED_WAREHOUSE if item.path in sharing else item.path.stem))


def pytest_configure(config: pytest.Config) -> None:
    """dbt parses the project once, before any pytest-xdist worker starts (they would otherwise
    each parse it into dbt/target at the same time)."""
    if not hasattr(config, "workerinput"):
        prepared_dbt_project()


def prepared_dbt_project():
    from dagster_project.defs.resources import dbt_project

    return dbt_project("duckdb")  # parses when the manifest is missing or stale


@pytest.fixture(scope="session", autouse=True)
def dbt_target_path(tmp_path_factory) -> Iterator[Path]:
    """Each test session's dbt invocations go to a folder of its own (dagster-dbt prunes the older
    invocation folders beside the newest: parallel sessions must not share them), starting from the
    project's parse (dbt's partial parsing)."""
    target = tmp_path_factory.mktemp("dbt_target")
    project = prepared_dbt_project()
    partial_parse = project.project_dir / project.target_path / "partial_parse.msgpack"
    if partial_parse.exists():
        shutil.copy(partial_parse, target)
    saved = os.environ.get("DBT_TARGET_PATH")
    os.environ["DBT_TARGET_PATH"] = str(target)
    yield target
    if saved is None:
        os.environ.pop("DBT_TARGET_PATH", None)
    else:
        os.environ["DBT_TARGET_PATH"] = saved


def progress_file(settings: Settings):
    return settings.data_dir / "build_progress.txt"


def build_sample_warehouse(
    tmp_path_factory, name: str, config: GenerationConfig, prepare: Callable[[Settings], None] | None = None
) -> tuple[Settings, BuildResult]:
    """Generate `config` into a fresh folder (then `prepare` the landing files, if given) and build
    it through Dagster, as `pcw run` does."""
    data = tmp_path_factory.mktemp(name)
    settings = Settings(data_dir=data, landing_dir=data / "landing", warehouse_path=data / "warehouse.duckdb")
    generate(settings.landing_dir, config)
    if prepare:
        prepare(settings)
    # what `pcw run` would print, kept for tests/test_catalog.py
    with (
        pytest.MonkeyPatch.context() as env,
        dg.DagsterInstance.ephemeral() as instance,
        progress_file(settings).open("w") as out,
    ):
        if config.end_date > load_date():  # loaded as exported at the end of its history, not before
            env.setenv("PCW_LOAD_DATE", config.end_date.isoformat())
        result = build_warehouse(settings, instance, progress=BuildProgress(out, interactive=False))
    assert result.success, "\n".join(result.failures())
    return settings, result


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory) -> tuple[Settings, BuildResult]:
    """Tests that change it put it back as it was (test_warehouse.py checks that with fingerprints)."""
    return build_sample_warehouse(tmp_path_factory, "pcw_small", SMALL_SAMPLE)
