"""Publishing raw tables for other engines: every dbt source, written whole; the marts for planners."""

import re

import duckdb
import pytest

from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.warehouse.publish import SourceTable, publish_raw_tables, source_tables

pytestmark = pytest.mark.unit


def test_every_source_the_models_read_is_published():
    used = set()
    for sql in (DBT_PROJECT_DIR / "models").rglob("*.sql"):
        used |= set(re.findall(r"source\(\s*'(\w+)'\s*,\s*'(\w+)'\s*\)", sql.read_text(encoding="utf-8")))
    published = {t.name for t in source_tables()}
    assert used and {table for _, table in used} <= published
    assert all(t.schema == "raw" for t in source_tables())


def test_a_table_is_published_whole_as_parquet(tmp_path):
    with duckdb.connect() as conn:
        conn.execute("create schema raw")
        conn.execute(
            "create table raw.loans as select range as loan_id, range * 1000 as loan_amount, "
            "cast('2025-07-01' as date) + cast(range as integer) as disbursement_date from range(5)"
        )
        written = publish_raw_tables(conn, tmp_path, [SourceTable("raw", "loans")])
        path = tmp_path / "raw" / "loans.parquet"
        assert written == {"raw.loans": 5} and path.exists() and not list(tmp_path.rglob(".*partial"))
        assert conn.execute(f"select * from read_parquet('{path}') except all select * from raw.loans").fetchall() == []
        assert conn.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0] == 5
        types = dict(
            conn.execute(
                f"select column_name, column_type from (describe select * from read_parquet('{path}'))"
            ).fetchall()
        )
        assert types == {"loan_id": "BIGINT", "loan_amount": "BIGINT", "disbursement_date": "DATE"}


def test_each_publication_of_the_marts_is_swapped_in_whole(tmp_path):
    from dagster_project.warehouse.publish import publish_marts, published_mart

    with duckdb.connect() as conn:
        conn.execute("create table mart_a as select 1 as x")
        conn.execute("create table stg_b as select 1 as x")
        publish_marts(conn, tmp_path)
        first = published_mart(tmp_path, "mart_a").resolve()  # a reader holding the first set
        conn.execute("insert into mart_a values (2)")
        assert publish_marts(conn, tmp_path) == {"mart_a": 2}
        assert (
            conn.execute(f"select count(*) from read_parquet('{published_mart(tmp_path, 'mart_a')}')").fetchone()[0]
            == 2
        )
        assert conn.execute(f"select count(*) from read_parquet('{first}')").fetchone()[0] == 1
        publish_marts(conn, tmp_path)
    assert not first.exists() and len(list(tmp_path.glob("marts-*"))) == 2  # the current set and the one before
    assert [p.name for p in (tmp_path / "marts").iterdir()] == ["mart_a.parquet"]


def dbt_reads(args: list[str]) -> tuple[str, dict]:
    """The command and the parameters dbt's own command line makes of `args`."""
    from dbt.cli.main import cli

    context = cli.make_context("dbt", list(args))
    name, command, rest = cli.resolve_command(context, context.protected_args + context.args)
    return name, command.make_context(name, rest, parent=context).params


@pytest.mark.filterwarnings("ignore:'protected_args' is deprecated:DeprecationWarning")
def test_run_config_vars_reach_dbt(monkeypatch):
    from dagster_project.defs.dbt_models import dbt_build_args

    # as dagster-dbt runs dbt: the project and its profile named by the environment
    monkeypatch.setenv("DBT_PROJECT_DIR", str(DBT_PROJECT_DIR))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(DBT_PROJECT_DIR))
    what_if = {"plan_demand_scale": 1.2, "plan_opening_date": "2026-06-30", "note": "Tuyên Quang, 'quoted'"}
    command, params = dbt_reads(dbt_build_args(what_if, full_refresh=True))
    assert command == "build" and params["vars"] == what_if and params["full_refresh"]
    command, params = dbt_reads(dbt_build_args({}))
    assert command == "build" and params["vars"] == {} and not params["full_refresh"]
