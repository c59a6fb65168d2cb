"""The benchmark runner at its smallest scale, once: it runs end to end, records every figure,
and both plain-pandas scripts give the same figures as their marts. Not a timed test."""

import json

import pytest

from bench.__main__ import main

pytestmark = pytest.mark.e2e

FIELDS = {
    "generation": ["seconds", "peak_rss_bytes"],
    "bare_duckdb": ["seconds", "rows", "rows_per_second"],
    "build": [
        "seconds",
        "transactions",
        "ingest_seconds",
        "transactions_ingest_seconds",
        "quality_gate_seconds",
        "dbt_seconds",
        "peak_rss_bytes",
        "steps",
        "dbt_node_seconds",
    ],
    "ingest": ["rows_per_second", "bare_duckdb_rows_per_second", "share_of_bare_duckdb"],
    "pandas_alternative": ["seconds", "rows", "comparison", "build_over_pandas_time_ratio"],
    "pandas_debt_quality": ["seconds", "rows", "comparison", "build_over_pandas_time_ratio"],
}


def test_smoke_scale_runs_and_pandas_agrees_with_the_warehouse(tmp_path):
    assert (
        main(["smoke", "--repeat", "1", "--workdir", str(tmp_path / "work"), "--results", str(tmp_path), "--no-table"])
        == 0
    )
    result = json.loads((tmp_path / "smoke.json").read_text())
    for section, fields in FIELDS.items():
        assert all(f in result[section] for f in fields), (section, result[section].keys())
    assert result["build"]["transactions"] == result["bare_duckdb"]["rows"] > 0
    assert 0 < result["quality_gate_share"] < 1
    assert result["build"]["dbt_node_seconds"]["mart_outstanding_balance"] > 0
    assert result["peak_rss_bytes"] > 0 and result["machine"]["cpus"] >= 1
    for script in ("pandas_alternative", "pandas_debt_quality"):
        comparison = result[script]["comparison"]
        assert comparison["agree"], (script, comparison)
        assert (
            comparison["rows_compared"] > 0
            and comparison["outstanding_total_pandas"] == comparison["outstanding_total_mart"] > 0
        ), script
