"""Run the benchmarks of one scale: each measured step in its own process (bench/steps.py), its
wall time and peak RSS (os.wait4) recorded; repeated steps reported as their median."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from bench import pandas_alternative, pandas_debt_quality
from bench.scales import Scale
from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.ingest.control import CONTROL_SUFFIX
from dagster_project.ingest.landing import file_month

GIB = 1024**3


def run_step(step: str, args: dict, workdir: Path) -> dict:
    """Run one step in a child process; its figures, wall seconds, CPU seconds and peak RSS (its
    children included). CPU seconds change little when other work shares the cores, wall seconds a lot."""
    output = workdir / f"{step}.json"
    output.unlink(missing_ok=True)
    started = time.perf_counter()
    spill = SpillWatch(workdir)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.steps", step, json.dumps(args), str(output)],
        env={**os.environ, "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    spill.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"bench step {step} failed:\n{stderr.decode(errors='replace')[-4000:]}")
    # ru_maxrss is in KiB on Linux; wait4 reports the child and the descendants it waited for.
    return {
        **json.loads(output.read_text()),
        "process_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "peak_spill_bytes": spill.peak_bytes,
    }


class SpillWatch(threading.Thread):
    """The peak size of what DuckDB spills to disk (its `<database>.tmp` folders in `folder` and
    its subfolders), sampled every half second while a step runs."""

    def __init__(self, folder: Path):
        super().__init__(daemon=True)
        self.folder, self.peak_bytes, self._done = folder, 0, threading.Event()
        self.start()

    def run(self) -> None:
        while not self._done.wait(0.5):
            self.peak_bytes = max(self.peak_bytes, self._spilled())

    def _spilled(self) -> int:
        total = 0
        for spill_dir in [*self.folder.glob("*.tmp"), *self.folder.glob("*/*.tmp")]:
            for path in spill_dir.rglob("*"):
                try:
                    total += path.stat().st_size
                except FileNotFoundError:  # DuckDB removed it meanwhile
                    pass
        return total

    def stop(self) -> None:
        self._done.set()
        self.join()


def months_between(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def landing_subset(full: Path, target: Path, months: set[str]) -> Path:
    """A landing folder with every register and only the ledger files of `months` (links, no copies)."""
    shutil.rmtree(target, ignore_errors=True)
    for path in full.glob("*/*/*"):
        source = LANDING_SOURCES[path.parent.parent.name]
        if source.monthly and file_month(path.name.removesuffix(CONTROL_SUFFIX)) not in months:
            continue
        destination = target / path.relative_to(full)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, destination)
    return target


def median_of(runs: list[dict]) -> dict:
    """The median of every number over repeated runs (other values from the first run)."""
    merged = {}
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(r[key] for r in runs)
        elif isinstance(value, dict):
            merged[key] = median_of([r[key] for r in runs])
        else:
            merged[key] = value
    return merged


def repeated(step: str, args: dict, workdir: Path, repeat: int) -> dict:
    runs = [run_step(step, args, workdir) for _ in range(repeat)]
    return {**median_of(runs), "runs": len(runs), "seconds_each": [round(r["seconds"], 3) for r in runs]}


# each plain-pandas script: the mart it restates and how the two are compared
PANDAS_SCRIPTS = {
    "pandas_alternative": ("mart_outstanding_balance", pandas_alternative.compare_with_mart),
    "pandas_debt_quality": ("mart_debt_quality", pandas_debt_quality.compare_with_mart),
}


def _mart(warehouse: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(f"select * from {name}").df()


def bench_scale(scale: Scale, workdir: Path, repeat: int | None = None, month_repeat: int | None = None) -> dict:
    repeat = repeat or scale.repeat
    month_repeat = month_repeat or repeat
    work = workdir / scale.name
    work.mkdir(parents=True, exist_ok=True)
    landing = work / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    result: dict = {
        "scale": scale.name,
        "description": scale.description,
        "repeat": repeat,
        "new_month_repeat": month_repeat,
    }

    result["generation"] = run_step("generate", {"landing": str(landing), "generate_args": scale.generate_args}, work)
    shutil.rmtree(work / "dagster_history", ignore_errors=True)
    base = {"data": str(work), "landing": str(landing), "warehouse": str(work / "warehouse.duckdb")}

    result["bare_duckdb"] = repeated(
        "bare_duckdb", {"landing": str(landing), "database": str(work / "bare.duckdb")}, work, repeat
    )
    result["build"] = repeated("build", base, work, repeat)
    build, bare = result["build"], result["bare_duckdb"]
    result["ingest"] = {
        "transactions_rows": build["transactions"],
        "rows_per_second": build["transactions"] / build["transactions_ingest_seconds"],
        "bare_duckdb_rows_per_second": bare["rows_per_second"],
        "share_of_bare_duckdb": build["transactions"] / build["transactions_ingest_seconds"] / bare["rows_per_second"],
        "note": "raw/transactions Dagster step (hashes, typing, row rules, manifest) "
        "vs CREATE TABLE AS read_* of the same files",
    }
    result["quality_gate_share"] = build["quality_gate_seconds"] / build["seconds"]
    # `pcw run` again with nothing changed: the whole process, as the user waits for it
    result["unchanged"] = repeated("build", {**base, "unchanged": True}, work, repeat)

    if scale.pandas_alternative:
        for step, (mart, compare) in PANDAS_SCRIPTS.items():
            output = work / f"{step}.parquet"
            result[step] = repeated(step, {"landing": str(landing), "output": str(output)}, work, repeat)
            result[step]["comparison"] = compare(pd.read_parquet(output), _mart(work / "warehouse.duckdb", mart))
            result[step]["build_over_pandas_time_ratio"] = build["seconds"] / result[step]["seconds"]

    if scale.incremental_month:
        result["new_month"] = {}
        new_year = int(scale.incremental_month[:4])
        for years in (1, 10):
            # History that starts with its opening balances: the sample generated from that year.
            start = new_year - years
            source = landing
            if start != int(scale.first_month[:4]):
                source = work / f"landing_from_{start}"
                shutil.rmtree(source, ignore_errors=True)
                run_step(
                    "generate",
                    {
                        "landing": str(source),
                        "generate_args": [
                            *scale.generate_args,
                            "--start-year",
                            str(start),
                            "--end-year",
                            str(new_year),
                        ],
                    },
                    work,
                )
            history = set(months_between(f"{start}-01", scale.incremental_month)[:-1])
            runs = []
            for _ in range(month_repeat):
                history_landing = landing_subset(source, work / f"landing_{years}y", history)
                args = {**base, "landing": str(history_landing), "warehouse": str(work / f"history_{years}y.duckdb")}
                run_step("build", args, work)
                landing_subset(source, history_landing, history | {scale.incremental_month})
                runs.append(run_step("new_month", {**args, "month": scale.incremental_month}, work))
            result["new_month"][f"{years}y"] = {
                **median_of(runs),
                "runs": len(runs),
                "history_months": len(history),
                "month": scale.incremental_month,
            }
        one, ten = result["new_month"]["1y"], result["new_month"]["10y"]
        result["new_month"]["ratio_10y_over_1y"] = ten["seconds"] / one["seconds"]
        result["new_month"]["load_ratio_10y_over_1y"] = ten["load_seconds"] / one["load_seconds"]

    result["peak_rss_bytes"] = max(result[k]["peak_rss_bytes"] for k in ("generation", "build"))
    result["machine"] = machine()
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def machine() -> dict:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(memory / GIB, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_average_at_end": os.getloadavg(),
    }
