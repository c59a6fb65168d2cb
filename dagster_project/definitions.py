"""Assembles the warehouse's Dagster definitions; the parts live in assets/, checks/, resources.py."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.dbt import DBT_PROJECT, dbt_models
from dagster_project.assets.ingest import landing_specs, raw_assets
from dagster_project.assets.reference import admin_units_reference
from dagster_project.checks.quality_gates import quality_gates
from dagster_project.resources import build_resources
from dagster_project.settings import Settings

loaded_assets = [admin_units_reference, *raw_assets]
warehouse_assets = [*loaded_assets, dbt_models]

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.assets(*warehouse_assets),
    description="Load every landing source and the admin units into raw, then build all dbt models.",
)


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*landing_specs, *warehouse_assets],
        asset_checks=quality_gates([key for assets_def in loaded_assets for key in assets_def.keys]),
        jobs=[warehouse_job],
        resources=build_resources(settings, DBT_PROJECT),
    )


defs = build_definitions(Settings.from_env())
