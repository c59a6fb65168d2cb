"""Assembles the warehouse's Dagster definitions from the parts in defs/.

Importing this module does no work: `defs` is built when Dagster (the code server, a run worker)
loads it, from the settings in that process's environment; `pcw` builds its own from the settings
it read (cli/build.py). Either way the dbt manifest is parsed then, if it is stale."""

from __future__ import annotations

import dagster as dg

from dagster_project.known_warnings import filter_known_warnings

filter_known_warnings()  # before the assets below are defined: defining them warns

from dagster_project.defs.dbt_models import build_dbt_models
from dagster_project.defs.jobs import build_marts_job, build_monthly_ledger_schedule, ledger_job, registers_job
from dagster_project.defs.loads import build_ledger_assets, landing_specs, ledger_partitions, register_assets
from dagster_project.defs.published import build_published_marts, build_published_raw
from dagster_project.defs.quality_gates import quality_gates
from dagster_project.defs.reference import admin_units_reference
from dagster_project.defs.resources import build_resources, dbt_project
from dagster_project.defs.sensors import build_landing_folder_sensor, load_failure_alert, marts_after_loads
from dagster_project.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    project = dbt_project(settings.dbt_target)
    dbt_models = build_dbt_models(project, settings.dbt_target)
    published_raw, published_marts = build_published_raw(), build_published_marts(dbt_models)
    # The ledger months that exist follow the settings and the landing folder (defs/loads.py).
    partitions = ledger_partitions(settings)
    loaded_assets = [admin_units_reference, *register_assets, *build_ledger_assets(partitions)]
    on_duckdb = settings.dbt_target == "duckdb"
    return dg.Definitions(
        assets=[*landing_specs, *loaded_assets, published_raw, dbt_models, published_marts],
        # The mart suites read the marts from the DuckDB file; on Spark the dbt tests guard them.
        asset_checks=quality_gates([*loaded_assets, dbt_models] if on_duckdb else loaded_assets),
        jobs=[
            registers_job,
            ledger_job,
            build_marts_job(settings.dbt_target, dbt_models, published_raw, published_marts),
        ],
        schedules=[build_monthly_ledger_schedule(partitions)],
        sensors=[build_landing_folder_sensor(partitions), marts_after_loads, load_failure_alert],
        resources=build_resources(settings, project),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What the code location loads (pyproject.toml [tool.dagster]): the settings of this process's environment."""
    return build_definitions(Settings.from_env())
