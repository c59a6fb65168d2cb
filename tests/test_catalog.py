"""What the Dagster catalog shows the data team: owners, row counts, column types and
descriptions, readable amounts, and figures a skipped re-load does not overwrite."""

import re

import dagster as dg
import duckdb
import pytest

from dagster_project.definitions import build_definitions
from dagster_project.settings import DATA_TEAM, Settings
from tests.tiny_landing import materialize_registers, write_registers

pytestmark = pytest.mark.integration


def test_every_asset_has_the_data_team_as_owner():
    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    owners = {key: graph.get(key).owners for key in graph.get_all_asset_keys()}
    assert len(owners) > 60 and all(o == [DATA_TEAM] for o in owners.values()), {
        k.to_user_string(): o for k, o in owners.items() if o != [DATA_TEAM]
    }


def _loans_materialization(result: dg.ExecuteInProcessResult) -> dict:
    [loans] = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["raw", "loans"])]
    return {k: getattr(v, "value", v) for k, v in loans.materialization.metadata.items()}


def test_an_unchanged_reload_reports_the_figures_of_the_last_real_load(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing, loans=3)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _loans_materialization(materialize_registers(tmp_path, instance))
        again = _loans_materialization(materialize_registers(tmp_path, instance))

    assert first["rows_loaded"] == first["rows_read"] == first["dagster/row_count"] == 3
    assert first["total_loan_amount"] == "150,000,000 VND"  # three loans of 50 million, to the đồng
    assert (first["partitions_loaded"], again["partitions_loaded"], again["partitions_unchanged"]) == (1, 0, 1)
    changing = {"partitions_loaded", "partitions_unchanged"}
    assert {k: v for k, v in again.items() if k not in changing} == {
        k: v for k, v in first.items() if k not in changing
    }
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:  # the manifest says nothing was loaded
        assert conn.execute(
            "select outcome, rows_loaded from audit.load_manifest where source_name = 'loans' order by finished_at"
        ).fetchall() == [("loaded", 3), ("unchanged", 0)]


@pytest.fixture(scope="module")
def built(small_warehouse):
    return small_warehouse


def test_the_build_says_each_step_and_how_far_it_got(built):
    from dagster_project.cli.build import dbt_log_path
    from tests.conftest import progress_file

    settings, _ = built
    # off a terminal, a step still running shows now and then (e.g. `dbt: 103/185 nodes`): the
    # lines that stay are the steps' summaries
    lines = [
        line
        for line in progress_file(settings).read_text(encoding="utf-8").splitlines()
        if not re.fullmatch(r".* \d+/\d+ tables, .* rows|dbt: \d+/\d+ nodes|Quality gates: \d+/\d+ …|.* …", line)
    ]
    assert re.fullmatch(r"Loading registers … 11 tables, [\d,.]+( M)? rows \(\d+ s\)", lines[0]), lines
    assert lines[1] == "Quality gates: 4 passed"
    assert re.fullmatch(
        r"Loading ledgers 2024-01…2025-12 … 2 sources, 24 months, [\d,.]+( M)? rows \(\d+ s\)", lines[2]
    ), lines
    assert lines[3] == "Quality gates: 2 passed"
    dbt = re.fullmatch(
        r"dbt: (\d+)/(\d+) nodes \((\d+) models and seeds, (\d+) tests\) in \d+ s; dbt's log: (.+)", lines[4]
    )
    assert dbt and dbt[1] == dbt[2] and int(dbt[3]) > 50 and int(dbt[4]) > 100, lines
    assert dbt[5] == str(dbt_log_path(settings)) and "Completed successfully" in dbt_log_path(settings).read_text(
        encoding="utf-8"
    )
    assert re.fullmatch(r"Quality gates: \d+ passed", lines[5]), lines
    assert re.fullmatch(
        rf"Published 18 marts \([\d,.]+( M)? rows\) to {re.escape(str(settings.published_dir))}/marts", lines[6]
    ), lines
    assert len(lines) == 7


def test_every_dbt_table_reports_its_row_count_and_column_types(built):
    settings, result = built
    materializations = {
        m.asset_key.to_user_string(): m.materialization.metadata
        for m in result.runs["marts_job"].get_asset_materialization_events()
    }
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        tables = dict(
            conn.execute("select table_name, estimated_size from duckdb_tables() where schema_name = 'main'").fetchall()
        )
        for table in tables:
            metadata = materializations[table]
            rows = conn.execute(f"select count(*) from main.{table}").fetchone()[0]
            assert metadata["dagster/row_count"].value == rows, table
            columns = {c.name: c.type for c in metadata["dagster/column_schema"].schema.columns}
            described = dict(
                conn.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'main' and table_name = ?",
                    [table],
                ).fetchall()
            )
            assert columns == described, table
    assert len(tables) > 30
    # the descriptions the dbt yml gives travel with the types
    columns = {c.name: c for c in materializations["mart_outstanding_balance"]["dagster/column_schema"].schema.columns}
    assert (columns["outstanding_principal"].type, columns["outstanding_principal"].description) == (
        "BIGINT",  # the contract (mart_outstanding_balance.yml) types amounts as bigint on every engine
        "current + overdue + frozen, VND.",
    )
