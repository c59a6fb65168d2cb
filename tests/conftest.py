"""Warehouses built from generated samples, shared by the test modules that read them."""

from collections.abc import Callable

import dagster as dg
import pytest

from dagster_project.cli.build import BuildResult, build_warehouse
from dagster_project.ingest.rules import load_date
from dagster_project.cli.progress import BuildProgress
from sample_data import GenerationConfig, generate
from dagster_project.settings import Settings

# 3 communes of the reference province, 2024-2025: both sides of the 2025 reorganisation
SMALL_SAMPLE = GenerationConfig(communes=3, start_year=2024, end_year=2025)


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
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance, progress_file(settings).open("w") as out:
        if config.end_date > load_date():  # loaded as exported at the end of its history, not before
            env.setenv("PCW_LOAD_DATE", config.end_date.isoformat())
        result = build_warehouse(settings, instance, progress=BuildProgress(out, interactive=False))
    assert result.success, "\n".join(result.failures())
    return settings, result


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory) -> tuple[Settings, BuildResult]:
    """Tests that change it put it back as it was (test_warehouse.py checks that with fingerprints)."""
    return build_sample_warehouse(tmp_path_factory, "pcw_small", SMALL_SAMPLE)
