"""Landing files → raw: typing, quarantine of bad rows, rejection of bad files, idempotency."""

from pathlib import Path

import duckdb
import pytest  # noqa: F401

from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.ingest.admin_units import new_communes, old_communes
from dagster_project.ingest.loader import load_register

pytestmark = pytest.mark.unit

POINTS = LANDING_SOURCES["transaction_points"]
HEADER = (
    "transaction_point_id,transaction_point_name,transaction_office_code,transaction_office_name,"
    "commune_code,transaction_day,opened_date"
)


def write_points(landing: Path, body: str, *, bom: bool = True, crlf: bool = True) -> Path:
    path = landing / "transaction_points" / "08" / "transaction_points_08.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + "\n" + body
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("create schema raw")
        for name, frame in (("admin_units_old", old_communes()), ("admin_units_new", new_communes())):
            connection.register("frame", frame)
            connection.execute(f"create table raw.{name} as select * from frame")
        yield connection


def test_vietnamese_text_bom_and_crlf_load_unharmed_and_bad_rows_are_quarantined(tmp_path, conn):
    write_points(
        tmp_path,
        "TP1,Điểm giao dịch xã Hùng Lợi,PGD08-071,PGD huyện Yên Sơn,02200,15,2014-01-01\n"
        "TP2,Điểm giao dịch xã Trung Sơn,PGD08-071,PGD huyện Yên Sơn,02239,ngày 5,2014-01-01\n"
        ",Điểm không mã,PGD08-071,PGD huyện Yên Sơn,02242,7,2014-01-01\n"
        "TP4,Điểm giao dịch xã Kim Quan,PGD08-071,PGD huyện Yên Sơn,02245,20,2014-13-01\n",
    )
    [load] = load_register(conn, POINTS, tmp_path).files

    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (4, 1, 3)
    loaded = conn.execute(
        "select transaction_point_name, transaction_day, source_line from raw.transaction_points"
    ).fetchall()
    assert loaded == [("Điểm giao dịch xã Hùng Lợi", 15, 2)]
    quarantined = conn.execute("select source_line, rule from raw.quarantine order by source_line").fetchall()
    assert quarantined == [
        (3, "unparseable integer: transaction_day"),
        (4, "missing key: transaction_point_id"),
        (5, "unparseable date: opened_date"),
    ]
    raw_row = conn.execute("select raw_row from raw.quarantine where source_line = 3").fetchone()[0]
    assert "ngày 5" in raw_row and "Trung Sơn" in raw_row


def test_loading_the_same_files_twice_changes_nothing(tmp_path, conn):
    write_points(
        tmp_path,
        "TP1,Điểm A,PGD08-071,PGD Yên Sơn,02200,15,2014-01-01\nTP2,Điểm B,PGD08-071,PGD Yên Sơn,02239,x,2014-01-01\n",
    )
    load_register(conn, POINTS, tmp_path)
    first = conn.execute(
        "select * from raw.transaction_points union all "
        "select null, null, null, null, null, null, null, rule, source_line from raw.quarantine"
    ).fetchall()
    load_register(conn, POINTS, tmp_path)
    second = conn.execute(
        "select * from raw.transaction_points union all "
        "select null, null, null, null, null, null, null, rule, source_line from raw.quarantine"
    ).fetchall()
    assert first == second and len(first) == 2


def test_a_file_without_the_contract_columns_is_rejected_and_the_table_is_kept(tmp_path, conn):
    write_points(tmp_path, "TP1,Điểm A,PGD08-071,PGD Yên Sơn,02200,15,2014-01-01\n")
    load_register(conn, POINTS, tmp_path)
    path = tmp_path / "transaction_points" / "08" / "transaction_points_08.csv"
    path.write_text(
        HEADER.replace("transaction_day", "ngay_giao_dich") + "\nTP9,Điểm Z,PGD08-071,PGD,02200,15,2014-01-01\n",
        encoding="utf-8",
    )

    [rejected] = load_register(conn, POINTS, tmp_path).rejected
    assert rejected.source_file == "transaction_points/08/transaction_points_08.csv"
    assert "missing ['transaction_day']" in rejected.rejection and "unexpected ['ngay_giao_dich']" in rejected.rejection
    assert conn.execute("select transaction_point_id from raw.transaction_points").fetchall() == [("TP1",)]
