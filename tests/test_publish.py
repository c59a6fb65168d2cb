"""Publishing raw tables for other engines: every dbt source, written whole, and the dbt target setting."""

import re

import duckdb
import pytest

from dagster_project.publish import SourceTable, publish_raw_tables, source_tables
from dagster_project.settings import DBT_PROJECT_DIR, dbt_target


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
        conn.execute("create table raw.loans as select range as loan_id, range * 1000 as loan_amount, "
                     "cast('2025-07-01' as date) + cast(range as integer) as disbursement_date from range(5)")
        written = publish_raw_tables(conn, tmp_path, [SourceTable("raw", "loans")])
        path = tmp_path / "raw" / "loans.parquet"
        assert written == {"raw.loans": 5} and path.exists() and not list(tmp_path.rglob(".*partial"))
        assert conn.execute(f"select * from read_parquet('{path}') except all select * from raw.loans").fetchall() == []
        assert conn.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0] == 5
        types = dict(conn.execute(f"select column_name, column_type from (describe select * from read_parquet('{path}'))").fetchall())
        assert types == {"loan_id": "BIGINT", "loan_amount": "BIGINT", "disbursement_date": "DATE"}


def test_the_dbt_target_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("PCW_DBT_TARGET", raising=False)
    assert dbt_target() == "duckdb"
    monkeypatch.setenv("PCW_DBT_TARGET", "spark")
    assert dbt_target() == "spark"
    monkeypatch.setenv("PCW_DBT_TARGET", "postgres")
    with pytest.raises(ValueError, match="PCW_DBT_TARGET"):
        dbt_target()
