"""One measured step, run in its own process so that its peak memory is its own:

    python -m bench.steps <step> <arguments as JSON> <result JSON path>

The parent (runner.py) times the process and reads its peak RSS with os.wait4.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def generate(args: dict) -> dict:
    from dagster_project.cli.main import main

    started = time.perf_counter()
    main(["generate", "--landing-dir", args["landing"], *args["generate_args"]])
    return {"seconds": time.perf_counter() - started}


def bare_duckdb(args: dict) -> dict:
    """The fastest load of the ledger files on this machine: DuckDB reading them straight into a table."""
    import duckdb

    files = sorted(
        str(p) for p in Path(args["landing"], "transactions").glob("*/*") if p.suffix in (".parquet", ".csv")
    )
    reader = "read_parquet" if files[0].endswith(".parquet") else "read_csv"
    database = Path(args["database"])
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as conn:
        started = time.perf_counter()
        conn.execute(f"create table transactions as select * from {reader}(?)", [files])
        conn.execute("checkpoint")
        seconds = time.perf_counter() - started
        rows = conn.execute("select count(*) from transactions").fetchone()[0]
    database.unlink()
    return {"seconds": seconds, "rows": rows, "files": len(files), "rows_per_second": rows / seconds}


def _settings(args: dict):
    from dagster_project.settings import Settings

    return Settings(
        data_dir=Path(args["data"]), landing_dir=Path(args["landing"]), warehouse_path=Path(args["warehouse"])
    )


def _step_seconds(instance, result) -> dict[str, float]:
    """Wall seconds of each Dagster step of an in-process run, from its event log."""
    started, seconds = {}, {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            seconds[event.step_key] = entry.timestamp - started[event.step_key]
    return seconds


def _phases(runs: dict, instance) -> dict:
    """Split a build's wall time into ingestion, quality gates (GX) and dbt."""
    steps = {f"{job}/{key}": s for job, result in runs.items() for key, s in _step_seconds(instance, result).items()}
    gates = sum(s for k, s in steps.items() if "great_expectations" in k)
    dbt = sum(s for k, s in steps.items() if "dbt" in k)
    ledger_ingest = sum(s for k, s in steps.items() if k.startswith("ledger_job/") and "great_expectations" not in k)
    transactions_ingest = sum(s for k, s in steps.items() if k.endswith("raw__transactions"))
    return {
        "steps": steps,
        "ingest_seconds": sum(steps.values()) - gates - dbt,
        "ledger_ingest_seconds": ledger_ingest,
        "transactions_ingest_seconds": transactions_ingest,
        "quality_gate_seconds": gates,
        "dbt_seconds": dbt,
    }


def _dbt_node_seconds(since: float) -> dict[str, float]:
    """Execution time of every dbt node run since `since` (epoch seconds), from dbt's run_results.json."""
    from dagster_project.defs.dbt_models import target_dir
    from dagster_project.defs.resources import dbt_project

    target = target_dir(dbt_project("duckdb"))  # where the dbt step puts each build's folder
    seconds = {}
    for path in target.rglob("run_results.json"):
        if path.stat().st_mtime >= since:
            for node in json.loads(path.read_text())["results"]:
                seconds[node["unique_id"].split(".", 2)[-1]] = node["execution_time"]
    return seconds


def build(args: dict) -> dict:
    import dagster as dg
    import duckdb

    from dagster_project.cli.build import build_warehouse

    settings = _settings(args)
    if not args.get("unchanged"):  # else the warehouse of the last build, its landing files unchanged
        settings.warehouse_path.unlink(missing_ok=True)
    since = time.time()
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        result = build_warehouse(settings, instance)
        seconds = time.perf_counter() - started
        if not result.success:
            raise SystemExit("build failed:\n" + "\n".join(result.failures()))
        phases = _phases(result.runs, instance)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        rows = conn.execute("select count(*) from raw.transactions").fetchone()[0]
    return {"seconds": seconds, "transactions": rows, **phases, "dbt_node_seconds": _dbt_node_seconds(since)}


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of this process and of the children it waited for (dbt)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"own": own.ru_utime + own.ru_stime, "children": children.ru_utime + children.ru_stime}


def new_month(args: dict) -> dict:
    """Load one new ledger month into an existing warehouse, then rebuild the marts."""
    cpu_at_start = _cpu_seconds()
    import dagster as dg

    from dagster_project.definitions import build_definitions

    settings = _settings(args)
    defs = build_definitions(settings)
    cpu_before_runs = _cpu_seconds()
    runs, marks = {}, {}
    since = time.time()
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        for job, partition in (("ledger_job", f"{args['month']}-01"), ("marts_job", None)):
            runs[job] = defs.resolve_job_def(job).execute_in_process(
                instance=instance,
                partition_key=partition,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
            marks[job] = time.perf_counter() - started
            if not runs[job].success:
                raise SystemExit(f"{job} failed")
        phases = _phases(runs, instance)
    cpu = _cpu_seconds()
    return {
        "seconds": marks["marts_job"],
        # the imports and definitions before the runs; the runs in this process; dbt's processes
        "cpu_seconds_importing": cpu_before_runs["own"] - cpu_at_start["own"],
        "cpu_seconds_runs": cpu["own"] - cpu_before_runs["own"],
        "cpu_seconds_dbt": cpu["children"] - cpu_at_start["children"],
        "load_seconds": marks["ledger_job"],
        **phases,
        "dbt_node_seconds": _dbt_node_seconds(since),
    }


def _pandas_script(compute, args: dict) -> dict:
    started = time.perf_counter()
    frame = compute(Path(args["landing"]))
    seconds = time.perf_counter() - started
    frame.to_parquet(args["output"], index=False)
    return {"seconds": seconds, "rows": len(frame)}


def pandas_alternative(args: dict) -> dict:
    from bench.pandas_alternative import outstanding_balance

    return _pandas_script(outstanding_balance, args)


def pandas_debt_quality(args: dict) -> dict:
    from bench.pandas_debt_quality import debt_quality

    return _pandas_script(debt_quality, args)


STEPS = {f.__name__: f for f in (generate, bare_duckdb, build, new_month, pandas_alternative, pandas_debt_quality)}

if __name__ == "__main__":
    step, arguments, output = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    Path(output).write_text(json.dumps(STEPS[step](arguments)))
