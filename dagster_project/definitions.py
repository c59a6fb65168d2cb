"""Assembles the warehouse's Dagster definitions; the parts live in assets/, checks/, jobs, sensors."""

from __future__ import annotations

import dagster as dg

from dagster_project.known_warnings import filter_known_warnings

filter_known_warnings()  # before the assets below are defined: defining them warns

from dagster_project.defs.dbt_models import DBT_PROJECT, dbt_models
from dagster_project.defs.loads import build_ledger_assets, landing_specs, ledger_partitions, register_assets
from dagster_project.defs.published import published_marts, published_raw
from dagster_project.defs.reference import admin_units_reference
from dagster_project.defs.quality_gates import quality_gates
from dagster_project.defs.jobs import build_monthly_ledger_schedule, ledger_job, marts_job, registers_job
from dagster_project.defs.resources import build_resources
from dagster_project.defs.sensors import build_landing_folder_sensor, load_failure_alert, marts_after_loads
from dagster_project.settings import Settings, dbt_target


def build_definitions(settings: Settings) -> dg.Definitions:
    # The ledger months that exist follow the settings and the landing folder (defs/loads.py).
    partitions = ledger_partitions(settings)
    loaded_assets = [admin_units_reference, *register_assets, *build_ledger_assets(partitions)]
    return dg.Definitions(
        assets=[*landing_specs, *loaded_assets, published_raw, dbt_models, published_marts],
        # The mart suites read the marts from the DuckDB file; on Spark the dbt tests guard them.
        asset_checks=quality_gates([*loaded_assets, dbt_models] if dbt_target() == "duckdb" else loaded_assets),
        jobs=[registers_job, ledger_job, marts_job],
        schedules=[build_monthly_ledger_schedule(partitions)],
        sensors=[build_landing_folder_sensor(settings, partitions), marts_after_loads, load_failure_alert],
        resources=build_resources(settings, DBT_PROJECT),
    )


defs = build_definitions(Settings.from_env())
