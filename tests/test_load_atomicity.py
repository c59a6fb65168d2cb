"""Exactly once and all or nothing: loading twice changes nothing, a corrected re-send replaces
its month, and a load killed mid-way leaves no half-loaded month."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.domain.landing_contract import LANDING_SOURCES, landing_file_name
from dagster_project.ingest import loader
from dagster_project.ingest.admin_units import new_communes, old_communes
from dagster_project.ingest.landing import landing_files, landing_months
from dagster_project.ingest.loader import load_months, load_register

pytestmark = pytest.mark.e2e

MONTHS = [f"2024-{m:02d}" for m in range(1, 9)]
ROWS_PER_MONTH = 20_000
COMMUNE = "02200"  # Phường Phan Thiết, Tuyên Quang (old scheme; every month here is before the reform)


def _write_csv(landing: Path, source: str, header: str, rows: list[str]) -> None:
    path = landing / landing_file_name(LANDING_SOURCES[source], "08")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_transactions_month(landing: Path, month: str, rows: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    day = f"{month}-15"
    table = pa.table(
        {
            "transaction_id": [f"T{month.replace('-', '')}{i:07d}" for i in range(rows)],
            "transaction_date": pa.array(np.full(rows, np.datetime64(day, "D"))).cast(pa.date32()),
            "loan_id": [f"L{i % 10}" for i in range(rows)],
            "transaction_type": ["interest_payment"] * rows,
            "principal_amount": np.zeros(rows, dtype=np.int64),
            "interest_amount": rng.integers(10_000, 500_000, rows),
            "from_bucket": pa.nulls(rows, pa.string()),
            "to_bucket": pa.nulls(rows, pa.string()),
            "cause_code": pa.nulls(rows, pa.string()),
            "new_due_date": pa.nulls(rows, pa.date32()),
            "frozen_until": pa.nulls(rows, pa.date32()),
            "loss_percent": pa.nulls(rows, pa.int32()),
            "reversed_transaction_id": pa.nulls(rows, pa.string()),
            "commune_code": [COMMUNE] * rows,
            "transaction_point_id": ["TP1"] * rows,
        }
    )
    path = landing / landing_file_name(LANDING_SOURCES["transactions"], "08", month, "parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("landing")
    _write_csv(
        landing,
        "transaction_points",
        ",".join(LANDING_SOURCES["transaction_points"].columns),
        [f"TP1,Điểm giao dịch phường Phan Thiết,PGD08-070,PGD thành phố Tuyên Quang,{COMMUNE},15,2014-01-01"],
    )
    _write_csv(
        landing,
        "groups",
        ",".join(LANDING_SOURCES["groups"].columns),
        [f"G1,Tổ TK&VV tổ 5,Tổ 5,{COMMUNE},TP1,HPN,B0,2014-01-01,10"],
    )
    _write_csv(
        landing,
        "borrowers",
        ",".join(LANDING_SOURCES["borrowers"].columns),
        [
            f"B{i},H{i},Nguyễn Thị Hoa {i},0081900000{i:02d},09120000{i:02d},F,1980,Tày,poor,2023,G1,"
            f"{COMMUNE},Tổ 5,2014-01-01,true,false"
            for i in range(10)
        ],
    )
    _write_csv(
        landing,
        "loans",
        ",".join(LANDING_SOURCES["loans"].columns),
        [
            f"L{i},B{i},G1,HPN,01,central,production,50000000,2023-06-15,6.6,8.58,60,2028-06-15,12,{COMMUNE},TP1"
            for i in range(10)
        ],
    )
    for i, month in enumerate(MONTHS):
        write_transactions_month(landing, month, ROWS_PER_MONTH, seed=i)
    return landing


def load_registers(conn: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """The reference units and the registers the ledger's rules read."""
    conn.execute("create schema if not exists raw")
    for name, frame in (("admin_units_old", old_communes()), ("admin_units_new", new_communes())):
        conn.register("frame", frame)
        conn.execute(f"create or replace table raw.{name} as select * from frame")
    for source in ("transaction_points", "groups", "borrowers", "loans"):
        load_register(conn, LANDING_SOURCES[source], landing)


# Month by month, each in its own transaction, printing as each commits (the kill test waits on it).
LOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import duckdb
    from dagster_project.domain.landing_contract import LANDING_SOURCES
    from dagster_project.ingest.landing import landing_months
    from dagster_project.ingest.loader import load_month
    from tests.test_load_atomicity import load_registers

    warehouse, landing = sys.argv[1], Path(sys.argv[2])
    with duckdb.connect(warehouse) as conn:
        load_registers(conn, landing)
        transactions = LANDING_SOURCES["transactions"]
        for month in landing_months(landing, transactions):
            load_month(conn, transactions, landing, month)
            print("loaded", month, flush=True)
    """
)


def run_load(warehouse: Path, landing: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", LOAD_SCRIPT, str(warehouse), str(landing)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )


def table_fingerprint(warehouse: Path) -> dict[str, tuple]:
    """Row count and a hash of the sorted contents of every raw table."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        return {
            t: conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::varchar, '|' order by r::varchar), '')) from raw.{t} r"
            ).fetchone()
            for t in tables
        }


def test_loading_everything_twice_leaves_every_table_the_same(tmp_path, landing):
    warehouse = tmp_path / "w.duckdb"
    assert run_load(warehouse, landing).wait() == 0
    first = table_fingerprint(warehouse)
    assert first["transactions"][0] == len(MONTHS) * ROWS_PER_MONTH
    assert run_load(warehouse, landing).wait() == 0
    assert table_fingerprint(warehouse) == first
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        outcomes = conn.execute(
            "select outcome, count(*) from audit.load_manifest where source_name = 'transactions' group by 1 order by 1"
        ).fetchall()
    assert outcomes == [("loaded", len(MONTHS)), ("unchanged", len(MONTHS))]


def test_a_corrected_resend_replaces_its_month_only(tmp_path, landing):
    local = tmp_path / "landing"
    subprocess.run(["cp", "-r", str(landing), str(local)], check=True)
    warehouse = tmp_path / "w.duckdb"
    assert run_load(warehouse, local).wait() == 0
    before = table_fingerprint(warehouse)
    write_transactions_month(local, "2024-03", 1_000, seed=99)
    assert run_load(warehouse, local).wait() == 0
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        by_file = dict(conn.execute("select source_file, count(*) from raw.transactions group by 1").fetchall())
    assert by_file["transactions/08/transactions_08_2024-03.parquet"] == 1_000
    assert by_file["transactions/08/transactions_08_2024-04.parquet"] == ROWS_PER_MONTH
    assert sum(by_file.values()) == before["transactions"][0] - ROWS_PER_MONTH + 1_000


def test_a_load_killed_midway_leaves_whole_months_and_a_rerun_completes_it(tmp_path, landing):
    clean = tmp_path / "clean.duckdb"
    assert run_load(clean, landing).wait() == 0

    killed = tmp_path / "killed.duckdb"
    process = run_load(killed, landing)
    loaded = []
    while len(loaded) < 3:  # kill inside a month's transaction, a few months in
        line = process.stdout.readline()
        assert line, "the load ended before it could be killed"
        loaded.append(line)
    time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    with duckdb.connect(str(killed), read_only=True) as conn:
        per_file = conn.execute("select source_file, count(*) from raw.transactions group by 1").fetchall()
        manifest = conn.execute(
            "select count(*) from audit.load_manifest where source_name = 'transactions'"
        ).fetchone()[0]
    assert len(per_file) < len(MONTHS)
    assert all(count == ROWS_PER_MONTH for _, count in per_file)  # no half-loaded month
    assert manifest == len(per_file)  # the manifest only knows committed months

    assert run_load(killed, landing).wait() == 0
    assert table_fingerprint(killed) == table_fingerprint(clean)


def _backfill(warehouse: Path, landing: Path) -> None:
    """Registers, then every ledger month in one backfill (load_months), as the ledger job does."""
    with duckdb.connect(str(warehouse)) as conn:
        load_registers(conn, landing)
        transactions = LANDING_SOURCES["transactions"]
        load_months(conn, transactions, landing, landing_months(landing, transactions))


def test_a_backfill_too_big_for_one_batch_loads_in_batches_of_whole_months_to_the_same_tables(
    tmp_path, landing, monkeypatch
):
    local = tmp_path / "landing"
    subprocess.run(["cp", "-r", str(landing), str(local)], check=True)
    # A key of the first month sent again in the sixth: quarantined, whichever batch it lands in.
    path = local / landing_file_name(LANDING_SOURCES["transactions"], "08", MONTHS[5], "parquet")
    sixth = pq.read_table(path).to_pylist()
    sixth[7]["transaction_id"] = f"T{MONTHS[0].replace('-', '')}0000007"
    pq.write_table(pa.Table.from_pylist(sixth, schema=pq.read_schema(path)), path)

    _backfill(tmp_path / "one_batch.duckdb", local)
    monkeypatch.setattr(loader, "BATCH_ROWS", int(2.5 * ROWS_PER_MONTH))
    paths = [(m, landing_files(local, LANDING_SOURCES["transactions"], m)) for m in MONTHS]
    assert [[m for m, _ in batch] for batch in loader._batches(paths)] == [MONTHS[i : i + 2] for i in range(0, 8, 2)]
    _backfill(tmp_path / "batches.duckdb", local)

    assert table_fingerprint(tmp_path / "batches.duckdb") == table_fingerprint(tmp_path / "one_batch.duckdb")
    with duckdb.connect(str(tmp_path / "batches.duckdb"), read_only=True) as conn:
        quarantined = conn.execute("select source_file, rule from raw.quarantine").fetchall()
        loaded = conn.execute("select count(*) from raw.transactions").fetchone()[0]
    assert quarantined == [
        (path.relative_to(local).as_posix(), "duplicate transaction_id: already loaded from another file")
    ]
    assert loaded == len(MONTHS) * ROWS_PER_MONTH - 1
