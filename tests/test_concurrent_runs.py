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

from sample_data import GenerationConfig, generate
from dagster_project.settings import PROJECT_ROOT

DAGSTER = str(Path(sys.executable).with_name("dagster"))
IN_PROCESS = Path(__file__).with_name("in_process_run.yaml")


def start(job: str, env: dict, partition: str | None = None) -> subprocess.Popen:
    # In-process execution keeps each run to one Python process; pools hold across runs all the same.
    command = [DAGSTER, "job", "execute", "-m", "dagster_project.definitions", "-a", "defs", "-j", job]
    command += ["-c", str(IN_PROCESS)]
    if partition:
        command += ["--tags", json.dumps({"dagster/partition": partition})]
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=600)
    return process.returncode, output


def spans(instance: dg.DagsterInstance) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(start, end) of every run, oldest first, and of every step in any run."""
    runs, steps = [], []
    for record in sorted(instance.get_run_records(), key=lambda r: r.start_time):
        runs.append((record.start_time, record.end_time))
        started = {}
        for entry in instance.all_logs(record.dagster_run.run_id):
            kind = entry.dagster_event and entry.dagster_event.event_type
            if kind == dg.DagsterEventType.STEP_START:
                started[entry.step_key] = entry.timestamp
            elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                steps.append((started.pop(entry.step_key), entry.timestamp))
    return runs, steps


def overlap(intervals: list[tuple[float, float]]) -> float:
    """The longest time two of the intervals run together (0 if none do)."""
    ordered, longest, running_until = sorted(intervals), 0.0, float("-inf")
    for start, end in ordered:
        longest = max(longest, min(end, running_until) - start)
        running_until = max(running_until, end)
    return longest


def test_three_runs_at_once_all_succeed_and_load_everything(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)  # the project's own pool settings
    generate(tmp_path / "landing", GenerationConfig(communes=1, start_year=2025, end_year=2025))
    env = {
        **os.environ, "DAGSTER_HOME": str(home), "PCW_DATA_DIR": str(tmp_path),
        "PCW_LANDING_DIR": str(tmp_path / "landing"), "PCW_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }

    code, output = finish(start("registers_job", env))  # the loans the ledgers refer to
    assert code == 0, output

    runs = [start("ledger_job", env, "2025-01-01"), start("ledger_job", env, "2025-02-01"), start("registers_job", env)]
    outcomes = [finish(run) for run in runs]

    for code, output in outcomes:
        assert code == 0 and "Could not set lock" not in output, output
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        loaded = conn.execute(
            "select distinct partition_key from audit.load_manifest where source_name = 'transactions' and outcome = 'loaded'"
        ).fetchall()
        months_in_raw = conn.execute(
            "select distinct strftime(transaction_date, '%Y-%m') from raw.transactions order by 1"
        ).fetchall()
    # The runs overlapped, yet no two steps that open the warehouse did: the pool made them take turns.
    runs_spans, step_spans = spans(dg.DagsterInstance.from_config(str(home)))
    assert overlap(runs_spans[-3:]) > 5, runs_spans
    # (a slot passes to the next step while the last one's success event is written: allow a second)
    assert overlap(step_spans) < 1.0, step_spans
    assert sorted(k for (k,) in loaded) == ["2025-01", "2025-02"]
    assert months_in_raw == [("2025-01",), ("2025-02",)]
