"""Every file of the landing folder accounted for: names the contract does not know are recorded as
ignored with their reason, a ledger month after the load month is rejected until it comes, and a
file that disagrees with its control file (rows, amount sums, size) is rejected whole."""

import json
import shutil
from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.defs.loads import build_ledger_assets
from dagster_project.defs.resources import LandingFolder
from dagster_project.defs.sensors import build_landing_folder_sensor
from dagster_project.domain.landing_contract import LANDING_SOURCES, landing_file_name
from dagster_project.ingest.control import CONTROL_SUFFIX, NO_CONTROL_FILE, write_control
from dagster_project.ingest.rules import load_date
from dagster_project.settings import Settings
from sample_data import GenerationConfig, generate
from tests.tiny_landing import csv_text, load_all, materialize_registers, open_warehouse, write, write_registers

pytestmark = pytest.mark.integration

TRANSACTIONS = LANDING_SOURCES["transactions"]
LOAD_MONTH = f"{load_date():%Y-%m}"
NEXT_MONTH = f"{(load_date().replace(day=28) + timedelta(days=4)):%Y-%m}"

# a file the contract does not know -> the reason it is ignored
UNKNOWN = {
    "transactions/08/transactions_08_2024_02.csv": (
        "name does not match transactions_<branch>_<YYYY-MM>.csv or .parquet"
    ),
    "transactions/08/transactions_08_2024-02.CSV": "extension .CSV is not .csv or .parquet (lower case)",
    "transactions/08/transactions_08_2024-13.csv": "month 2024-13 in the name is not a month (YYYY-MM, 01 to 12)",
    "transactions/02/transactions_08_2024-02.csv": "named for branch 08 but in the folder transactions/02/",
    "transactions/transactions_08_2024-02.csv": (
        "not in a branch folder: transactions files go in transactions/<branch>/"
    ),
    "transactions/08/transactions_08_2024-03.csv.control.json": (
        "control file without its data file transactions_08_2024-03.csv"
    ),
    "transactions_08_2024-02.csv": "not in a source folder: files go in <source>/<branch>/ ("
    + ", ".join(LANDING_SOURCES)
    + ")",
}


def _landing_with_unknown_files(landing):
    """Registers, one good February file (T1), and each unknown file holding a row of its own."""
    write_registers(landing)
    write(landing, "transactions", [{"transaction_id": "T1"}], month="2024-02")
    for number, relative in enumerate(UNKNOWN, 10):
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(csv_text("transactions", [{"transaction_id": f"T{number}"}]), encoding="utf-8")


def _materialize_ledger(
    tmp_path, instance, month: str, partitions: dg.PartitionsDefinition
) -> dg.ExecuteInProcessResult:
    """The ledger assets through Dagster for one month, on tmp_path/landing into tmp_path/w.duckdb."""
    return dg.materialize(
        build_ledger_assets(partitions),
        partition_key=f"{month}-01",
        instance=instance,
        resources={
            "warehouse": DuckDBResource(database=str(tmp_path / "w.duckdb")),
            "landing": LandingFolder(path=str(tmp_path / "landing")),
        },
        raise_on_error=False,
    )


def _manifest(tmp_path, where: str = "true", params=()) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        return conn.execute(
            f"select source_file, outcome, message from audit.load_manifest where {where} order by source_file",
            list(params),
        ).fetchall()


def test_every_file_the_contract_does_not_know_is_recorded_as_ignored_with_its_reason(tmp_path):
    _landing_with_unknown_files(tmp_path / "landing")
    partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    with dg.instance_for_test() as instance:
        registers = materialize_registers(tmp_path, instance)
        result = _materialize_ledger(tmp_path, instance, "2024-02", partitions)
        assert registers.success and result.success
        again = _materialize_ledger(tmp_path, instance, "2024-02", partitions)  # nothing new to record
        assert again.success
        logged = {
            run.run_id: [e.user_message for e in instance.all_logs(run.run_id)] for run in (registers, result, again)
        }

    assert _manifest(tmp_path, "outcome = 'ignored'") == sorted((f, "ignored", r) for f, r in UNKNOWN.items())
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select transaction_id from raw.transactions").fetchall() == [("T1",)]  # the good file
        assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    # the run says so: its log, and the metadata of the asset whose folder holds them
    [transactions] = [
        m.materialization
        for m in result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey(["raw", "transactions"])
    ]
    listed = transactions.metadata["files_not_loaded"].value
    assert all(f in listed for f in UNKNOWN if f.startswith("transactions/"))
    # the first run records (and logs) the file outside every source folder, the ledger run those of its folder
    assert any(
        m.startswith("1 landing file(s) not loaded: transactions_08_2024-02.csv (ignored: not in a source folder")
        for m in logged[registers.run_id]
    )
    assert any(
        m.startswith("6 landing file(s) not loaded: ") and m.endswith("recorded in audit.load_manifest")
        for m in logged[result.run_id]
    )
    assert not any("not loaded" in m for m in logged[again.run_id])


def test_the_sensor_asks_only_for_partitions_and_says_which_files_it_leaves(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        landing_dir=tmp_path / "landing",
        warehouse_path=tmp_path / "w.duckdb",
        first_ledger_month="2024-01",
    )
    landing = settings.landing_dir
    for relative in UNKNOWN:
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_text("x")
    sensor = build_landing_folder_sensor(dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1))
    resources = {"landing": LandingFolder(path=str(landing))}
    with dg.instance_for_test() as instance:
        nothing = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources))
        assert nothing.run_requests == [] and json.loads(nothing.cursor) == {}
        assert (
            "7 landing file(s) not loaded: transactions/02/transactions_08_2024-02.csv (ignored: named for branch 08"
            in nothing.skip_message
        )

        write(landing, "transactions", [{}], month="2024-02")
        write(landing, "transactions", [{}], month=NEXT_MONTH)  # waits for its month
        (ledger,) = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources)).run_requests
        assert ledger.partition_key_range == dg.PartitionKeyRange("2024-02-01", "2024-02-01")


def test_a_month_after_the_load_month_is_recorded_rejected_by_the_run_then_loaded_when_it_comes(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(landing, "transactions", [{"transaction_id": "T1"}], month="2024-02")
    future = write(
        landing,
        "transactions",
        [{"transaction_id": "T2", "transaction_date": f"{NEXT_MONTH}-05", "commune_code": "02215"}],
        month=NEXT_MONTH,
    )
    source_file = future.relative_to(landing).as_posix()
    partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    with dg.instance_for_test() as instance:
        assert materialize_registers(tmp_path, instance).success
        assert _materialize_ledger(tmp_path, instance, "2024-02", partitions).success
        assert _manifest(tmp_path, "source_file = ?", [source_file]) == [
            (
                source_file,
                "rejected",
                f"month {NEXT_MONTH} is after the load month {LOAD_MONTH}: it loads once its month has come",
            )
        ]

        monkeypatch.setenv("PCW_LOAD_DATE", f"{NEXT_MONTH}-05")  # a later run, once its month has come
        later = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=3)
        assert _materialize_ledger(tmp_path, instance, NEXT_MONTH, later).success
    assert _manifest(tmp_path, "source_file = ? and outcome = 'loaded'", [source_file]) == [
        (source_file, "loaded", NO_CONTROL_FILE)
    ]


# control files


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """One commune, one year, ledgers as CSV: every file with its control file, as the writer leaves them."""
    landing = tmp_path_factory.mktemp("control") / "landing"
    generate(landing, GenerationConfig(communes=1, start_year=2024, end_year=2024, ledger_format="csv"))
    return landing


def _copy(sample, tmp_path):
    shutil.copytree(sample, tmp_path / "landing")
    return tmp_path / "landing"


def test_the_sample_has_a_control_file_for_every_data_file_and_loads_whole(sample, tmp_path):
    landing = _copy(sample, tmp_path)
    data_files = sorted(p for p in landing.rglob("*") if p.suffix in (".csv", ".parquet"))
    assert sorted(landing.rglob(f"*{CONTROL_SUFFIX}")) == [p.with_name(p.name + CONTROL_SUFFIX) for p in data_files]
    conn = open_warehouse(tmp_path / "w.duckdb")
    files = [f for load in load_all(conn, landing) for f in load.files]
    assert len(files) == len(data_files) and not [f for f in files if f.rejection or f.note]
    assert (
        conn.execute(
            "select count(*) from audit.load_manifest where outcome <> 'loaded' or message is not null"
        ).fetchone()[0]
        == 0
    )


def _last_file(landing) -> tuple:
    path = sorted((landing / "transactions").glob("*/*.csv"))[-1]
    return path, path.relative_to(landing).as_posix()


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_a_file_cut_inside_its_last_field_is_rejected_by_its_size(sample, tmp_path, monkeypatch, path):
    if path == "file by file":
        monkeypatch.setattr("dagster_project.ingest.batch.load_batch", lambda *args: False)
    landing = _copy(sample, tmp_path)
    cut, source_file = _last_file(landing)
    # as a branch system exports it: no quotes around values that need none
    pd.read_csv(cut, dtype=str, keep_default_na=False).to_csv(cut, index=False)
    write_control(cut, TRANSACTIONS)
    whole = cut.read_bytes()
    last_field = whole.rstrip(b"\n").rsplit(b",", 1)[1]  # the transaction_point_id, e.g. TP0802227
    cut.write_bytes(whole.rstrip(b"\n")[: -len(last_field) + 3])  # 'TP0': every row and amount still there
    conn = open_warehouse(tmp_path / "w.duckdb")
    loads = load_all(conn, landing)

    [rejected] = [f for load in loads for f in load.rejected]
    assert rejected.source_file == source_file
    assert rejected.rejection == (
        f"does not match its control file {cut.name}{CONTROL_SUFFIX}: "
        f"size: control says {len(whole):,} bytes, file has {cut.stat().st_size:,}"
    )
    assert conn.execute("select count(*) from raw.transactions where source_file = ?", [source_file]).fetchone()[0] == 0
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    assert (
        conn.execute("select count(distinct source_file) from raw.transactions").fetchone()[0] == 11
    )  # the others load


def test_a_file_missing_its_last_row_names_the_rows_and_sums_of_both(sample, tmp_path):
    landing = _copy(sample, tmp_path)
    cut, source_file = _last_file(landing)
    whole = pd.read_csv(cut, dtype={"principal_amount": "int64", "interest_amount": "int64"})
    lines = cut.read_text(encoding="utf-8").splitlines(keepends=True)
    cut.write_text("".join(lines[:-1]), encoding="utf-8")  # cut at a line end: the CSV itself reads fine
    kept = whole.iloc[:-1]
    conn = open_warehouse(tmp_path / "w.duckdb")
    [rejected] = [f for load in load_all(conn, landing) for f in load.rejected]

    expected = [f"rows: control says {len(whole):,}, file has {len(kept):,}"]
    expected += [
        f"sum of {c}: control {whole[c].sum():,} VND, file {kept[c].sum():,} VND"
        for c in TRANSACTIONS.amount_columns
        if whole[c].iloc[-1]
    ]
    expected.append(
        f"size: control says {sum(map(len, map(str.encode, lines))):,} bytes, file has {cut.stat().st_size:,}"
    )
    assert rejected.rejection == f"does not match its control file {cut.name}{CONTROL_SUFFIX}: " + "; ".join(expected)
    assert _manifest_of(conn, source_file) == ("rejected", rejected.rejection)
    assert conn.execute("select count(*) from raw.transactions where source_file = ?", [source_file]).fetchone()[0] == 0


def _manifest_of(conn, source_file):
    return conn.execute(
        "select outcome, message from audit.load_manifest where source_file = ? order by finished_at desc limit 1",
        [source_file],
    ).fetchone()


def test_an_amount_changed_by_hand_is_caught_by_its_sum_before_any_row_rule(sample, tmp_path):
    landing = _copy(sample, tmp_path)
    path, source_file = _last_file(landing)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = frame.index[frame.principal_amount.astype(int) > 0][0]
    before = frame.principal_amount.astype(int).sum()
    frame.loc[row, "principal_amount"] = str(int(frame.loc[row, "principal_amount"]) + 1000)
    frame.to_csv(path, index=False)
    conn = open_warehouse(tmp_path / "w.duckdb")
    [rejected] = [f for load in load_all(conn, landing) for f in load.rejected]
    assert f"sum of principal_amount: control {before:,} VND, file {before + 1000:,} VND" in rejected.rejection
    assert "rows:" not in rejected.rejection
    assert rejected.source_file == source_file


def test_a_file_without_a_control_file_loads_with_a_note_and_a_bad_control_file_rejects_its_file(sample, tmp_path):
    landing = _copy(sample, tmp_path)
    (first, second) = sorted((landing / "transactions").glob("*/*.csv"))[:2]
    first.with_name(first.name + CONTROL_SUFFIX).unlink()
    first_file = first.relative_to(landing).as_posix()
    second.with_name(second.name + CONTROL_SUFFIX).write_text('{"rows": 3}')
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)

    assert _manifest_of(conn, first_file) == ("loaded", NO_CONTROL_FILE)
    assert conn.execute("select count(*) from raw.transactions where source_file = ?", [first_file]).fetchone()[0] > 0
    assert _manifest_of(conn, second.relative_to(landing).as_posix()) == (
        "rejected",
        f"its control file {second.name}{CONTROL_SUFFIX} lacks bytes, sums.principal_amount, "
        "sums.interest_amount (whole numbers)",
    )


def test_a_control_file_arriving_after_its_data_file_checks_it_again(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    path = write(landing, "transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}], month="2024-02")
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    source_file = path.relative_to(landing).as_posix()
    assert _manifest_of(conn, source_file) == ("loaded", NO_CONTROL_FILE)

    write_control(path, TRANSACTIONS)  # its control file lands: a new version of the file
    control = json.loads(path.with_name(path.name + CONTROL_SUFFIX).read_text())
    assert control == {
        "rows": 2,
        "bytes": path.stat().st_size,
        "sums": {"interest_amount": 550000, "principal_amount": 0},
    }
    load_all(conn, landing)
    assert _manifest_of(conn, source_file) == ("loaded", None)
    assert landing_file_name(TRANSACTIONS, "08", "2024-02") == source_file
