"""Runs started at once by a sensor, the schedule and a person share the one DuckDB file: the
project's dagster.yaml pool makes their steps take turns instead of failing on the file lock."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.settings import PROJECT_ROOT
from sample_data import GenerationConfig, generate

pytestmark = pytest.mark.e2e

DAGSTER = str(Path(sys.executable).with_name("dagster"))
IN_PROCESS = Path(__file__).with_name("in_process_run.yaml")


def start(job: str, env: dict, partition: str | None = None) -> subprocess.Popen:
    # In-process execution keeps each run to one Python process; pools hold across runs all the same.
    command = [DAGSTER, "job", "execute", "-m", "dagster_project.definitions", "-a", "defs", "-j", job]
    command += ["-c", str(IN_PROCESS)]
    if partition:
        command += ["--tags", json.dumps({"dagster/partition": partition})]
    return subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=600)
    return process.returncode, output


def pool_waits(instance: dg.DagsterInstance) -> list[str]:
    """The steps that waited for a pool's slot, in any run: Dagster logs an engine event when a
    step is blocked by a pool limit."""
    return [
        f"{entry.step_key}: {entry.dagster_event.message}"
        for record in instance.get_run_records()
        for entry in instance.all_logs(record.dagster_run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        if "blocked by limit for pool" in (entry.dagster_event.message or "")
    ]


def test_three_runs_at_once_all_succeed_and_load_everything(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)  # the project's own pool settings
    generate(tmp_path / "landing", GenerationConfig(communes=1, start_year=2025, end_year=2025))
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PCW_DATA_DIR": str(tmp_path),
        "PCW_LANDING_DIR": str(tmp_path / "landing"),
        "PCW_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }

    code, output = finish(start("registers_job", env))  # the loans the ledgers refer to
    assert code == 0, output

    runs = [start("ledger_job", env, "2025-01-01"), start("ledger_job", env, "2025-02-01"), start("registers_job", env)]
    outcomes = [finish(run) for run in runs]

    for code, output in outcomes:
        assert code == 0 and "Could not set lock" not in output, output
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        loaded = conn.execute(
            "select distinct partition_key from audit.load_manifest "
            "where source_name = 'transactions' and outcome = 'loaded'"
        ).fetchall()
        months_in_raw = conn.execute(
            "select distinct strftime(transaction_date, '%Y-%m') from raw.transactions order by 1"
        ).fetchall()
    # The runs contended for the warehouse, and no step failed on the file's lock: the pool made
    # them take turns.
    waits = pool_waits(dg.DagsterInstance.from_config(str(home)))
    assert any("duckdb_warehouse" in wait for wait in waits), waits
    assert sorted(k for (k,) in loaded) == ["2025-01", "2025-02"]
    assert months_in_raw == [("2025-01",), ("2025-02",)]
