"""dbt models and seeds as Dagster assets; dbt tests surface as asset checks."""

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource

from dagster_project.defs.resources import WarehouseDbt
from dagster_project.ingest.holes import hole_message, ledger_holes
from dagster_project.settings import DATA_TEAM, PROJECT_ROOT, WAREHOUSE_POOL
from dagster_project.warehouse.code_checks import code_checked, code_digest, record_code_checked
from dagster_project.warehouse.publish import published_key
from dagster_project.warehouse.recompute import last_window


class WarehouseTranslator(DagsterDbtTranslator):
    """dbt sources are the `raw` tables the ingestion assets write (on DuckDB) or their published
    Parquet files (on Spark: dbt/macros/spark/register_published_sources.sql); models group by layer."""

    def __init__(self, dbt_target: str):
        super().__init__()
        self.dbt_target = dbt_target

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if self.dbt_target == "duckdb":
                return dg.AssetKey(["raw", dbt_resource_props["name"]])
            return published_key(dbt_resource_props["schema"], dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [DATA_TEAM]

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


class DbtRunConfig(dg.Config):
    """dbt vars for one run, over dbt_project.yml's defaults: a planner's what-if such as
    {"plan_demand_scale": 1.2} or {"plan_opening_date": "2026-06-30"} from the launchpad.
    full_refresh rebuilds the incremental loan × month-end models from all history (never needed for
    correctness: dbt works out what changed, dbt/models/recompute/)."""

    vars: dict[str, Any] = {}
    full_refresh: bool = False


KEPT_INVOCATIONS = 3  # each dbt build leaves ~11 MB of compiled SQL, logs and artifacts


def prune_invocations(latest: Path, keep: int = KEPT_INVOCATIONS) -> None:
    """Remove all but the newest `keep` dbt invocation folders of the same warehouse (the same vars,
    `invocation_folder`) beside `latest`: dagster-dbt gives every build its own target folder and
    nothing reads the old ones. Another warehouse's folders are left alone: its build, in another
    process, may be using one (the pool serialises the builds of one warehouse only)."""
    warehouse = latest.name.split("-")[1]
    folders = sorted(
        (f for f in latest.parent.glob(f"dbt_models-{warehouse}-*") if f.is_dir()),
        key=lambda f: f.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        if folder != latest:
            shutil.rmtree(folder, ignore_errors=True)


def invocation_folder(target_dir: Path, run_id: str, dbt_vars: Mapping[str, Any]) -> Path:
    """A new target folder for a dbt build, starting from the parse of the last build with the same
    vars if one is left: dbt parses the whole project again (seconds) when its vars differ from
    those of the parse it is given, and each warehouse's vars differ (its paths)."""
    digest = hashlib.sha256(json.dumps(dict(dbt_vars), sort_keys=True, default=str).encode()).hexdigest()[:8]
    folder = target_dir / f"dbt_models-{digest}-{run_id[:8]}-{uuid.uuid4().hex[:7]}"
    parses = sorted(target_dir.glob(f"dbt_models-{digest}-*/partial_parse.msgpack"), key=_modified)
    if parses:
        folder.mkdir(parents=True)
        with suppress(OSError):  # pruned meanwhile by another build: dbt parses it all
            shutil.copy(parses[-1], folder / parses[-1].name)
    return folder


def target_dir(project: DbtProject) -> Path:
    """Where the dbt builds' folders go: DBT_TARGET_PATH if set (as dagster-dbt reads it), else the
    project's target folder."""
    return project.project_dir / os.environ.get("DBT_TARGET_PATH", project.target_path)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # pruned meanwhile by another build
        return 0.0


# What depends on the code alone, run once per change of it (warehouse/code_checks.py)
CODE_ONLY = ["--exclude", "resource_type:seed resource_type:unit_test"]


def dbt_build_args(dbt_vars: Mapping[str, Any], full_refresh: bool = False, code_checked: bool = False) -> list[str]:
    """`dbt build` with the run's vars; without the seeds and unit tests when this code already ran them."""
    args = ["build", "--vars", json.dumps(dict(dbt_vars), ensure_ascii=False)] if dbt_vars else ["build"]
    args = [*args, "--full-refresh"] if full_refresh else args
    return [*args, *CODE_ONLY] if code_checked else args


ROW_COUNT_LOG = "row_count "  # logged by dbt/macros/report_to_dagster.sql after each table


def with_row_counts(invocation: DbtCliInvocation, context: dg.AssetExecutionContext) -> Iterator:
    """dagster-dbt's events of a build, as they happen (what `invocation.stream()` yields), each
    table's materialization with the row count dbt logged for it."""
    row_counts: dict[str, int] = {}
    for event in invocation.stream_raw_events():
        node = event.raw_event["data"].get("node_info", {}).get("unique_id")
        message = event.raw_event["info"].get("msg", "")
        if node and event.raw_event["info"]["name"] == "JinjaLogInfo" and message.startswith(ROW_COUNT_LOG):
            row_counts[node] = int(message.removeprefix(ROW_COUNT_LOG))
            continue
        for asset_event in event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            if isinstance(asset_event, dg.Output) and node in row_counts:
                asset_event = asset_event.with_metadata(
                    {**asset_event.metadata, "dagster/row_count": row_counts.pop(node)}
                )
            yield asset_event


def build_dbt_models(project: DbtProject, dbt_target: str) -> dg.AssetsDefinition:
    """The dbt project's models, seeds and tests, from its parsed manifest (defs/resources.py dbt_project)."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=WarehouseTranslator(dbt_target),
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(
        context: dg.AssetExecutionContext, dbt: WarehouseDbt, warehouse: DuckDBResource, config: DbtRunConfig
    ):
        # Seeds and unit tests are left out when this code already ran them on this warehouse; a
        # planner's what-if vars, a full refresh or a subset picked in the UI build as asked.
        code = code_digest(PROJECT_ROOT) if dbt_target == "duckdb" else None
        plain_build = not (config.vars or config.full_refresh or context.is_subset)
        with warehouse.get_connection() as conn:  # the raw tables live in the DuckDB file on every target
            holes = ledger_holes(conn)
            code_ran = bool(code) and plain_build and code_checked(conn) == code
            if code and not code_ran:
                record_code_checked(conn, None)  # this build rewrites the seeds: trust none until it succeeds
        if holes:
            raise dg.Failure(
                description=hole_message(holes), metadata={"missing": dg.MetadataValue.json([vars(h) for h in holes])}
            )
        dbt_vars = {**config.vars, **dbt.settings_vars}  # the settings last: a run's vars cannot move the warehouse
        invocation = dbt.cli(
            dbt_build_args(dbt_vars, config.full_refresh, code_checked=code_ran),
            context=context,
            target_path=invocation_folder(target_dir(project), context.run.run_id, dbt_vars),
        )
        try:
            yield from with_row_counts(invocation, context)
        finally:
            prune_invocations(invocation.target_path)
        if code:
            with warehouse.get_connection() as conn:
                if not code_ran and plain_build:
                    record_code_checked(conn, code)
                window = last_window(conn)
            if code_ran:
                context.log.info("Seeds and unit tests left out: this code ran them on this warehouse")
            if window:
                context.log.info(window.describe())

    return dbt_models
