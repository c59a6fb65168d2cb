"""The bad-input corpus: each class of bad row lands in quarantine with its rule and line, each
class of bad file is rejected whole with a readable reason, and nothing is lost."""

import csv
import io
import json
import unicodedata
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.ingest.landing import landing_months
from dagster_project.ingest.loader import load_months, load_register
from dagster_project.ingest.rules import load_date
from tests.tiny_landing import (
    DEFAULTS,
    NEW_COMMUNE,
    OLD_COMMUNE,
    csv_text,
    load_all,
    open_warehouse,
    write,
    write_registers,
)

pytestmark = pytest.mark.unit

TODAY = load_date()
NEXT_MONTH = (TODAY.replace(day=28) + timedelta(days=4)).replace(day=1)

BAD_ROWS = [
    # (source, the bad row, the rule it must be quarantined for)
    ("transactions", {"transaction_date": "2024-02-30"}, "unparseable date: transaction_date"),
    ("transactions", {"loss_percent": "140"}, "loss_percent outside 0-100 (%): loss_percent 140"),
    ("transactions", {"interest_amount": "275.000,5"}, "amount_not_integer: interest_amount '275.000,5'"),
    # Amounts that DuckDB's cast would round or scale into the ledger without a word.
    ("transactions", {"interest_amount": "371.250"}, "amount_not_integer: interest_amount '371.250'"),
    ("transactions", {"interest_amount": "280500.6"}, "amount_not_integer: interest_amount '280500.6'"),
    ("transactions", {"interest_amount": "7.74076E+10"}, "amount_not_integer: interest_amount '7.74076E+10'"),
    ("loans", {"loan_amount": "5E+07"}, "amount_not_integer: loan_amount '5E+07'"),
    ("transaction_points", {"transaction_day": "15.4"}, "unparseable integer: transaction_day"),
    # Dates that cannot be true.
    (
        "loans",
        {"disbursement_date": NEXT_MONTH.isoformat(), "contract_due_date": "2099-12-31", "commune_code": NEW_COMMUNE},
        f"date_in_future: disbursement_date {NEXT_MONTH} is after the load date {TODAY}",
    ),
    (
        "transaction_points",
        {"opened_date": "2099-01-01"},
        f"date_in_future: opened_date 2099-01-01 is after the load date {TODAY}",
    ),
    (
        "loans",
        {"disbursement_date": "1999-06-15", "contract_due_date": "2004-06-15"},
        "date_before_program: disbursement_date 1999-06-15 is before program 01 began on 2000-01-01",
    ),
    (
        "transactions",
        {
            "transaction_type": "principal_repayment",
            "principal_amount": "-1000000",
            "interest_amount": "0",
            "from_bucket": "current",
        },
        "negative amount: principal_amount",
    ),
    ("transactions", {"loan_id": "L999"}, "unknown loan_id: not in raw.loans"),
    ("transactions", {"transaction_id": ""}, "missing key: transaction_id"),
    ("transactions", {"transaction_date": "2025-08-15"}, "unknown commune_code for the era of transaction_date"),
    ("transactions", {"commune_code": "02999"}, "unknown commune_code for the era of transaction_date"),
    (
        "transactions",
        {
            "transaction_type": "transfer_to_overdue",
            "principal_amount": "1000000",
            "interest_amount": "0",
            "from_bucket": "overdue",
            "to_bucket": "current",
        },
        "from_bucket / to_bucket not allowed for the transaction_type",
    ),
    (
        "transactions",
        {
            "transaction_type": "freeze",
            "principal_amount": "1000000",
            "interest_amount": "0",
            "from_bucket": "overdue",
            "to_bucket": "frozen",
        },
        "freeze or write_off without a risk cause_code",
    ),
    ("transactions", {"transaction_type": "gia_han"}, "unknown transaction_type"),
    (
        "loans",
        {"annual_rate": "7.2", "overdue_annual_rate": "9.36"},
        "annual_rate not allowed: annual_rate 7.2 for program 01 on 2024-01-15 in commune 02200; "
        "allowed: 3.3 (in the communes of area list 30a); 6.6 (the program's rate)",
    ),
    ("loans", {"overdue_annual_rate": "8.6"}, "overdue_annual_rate is not 1.3 x annual_rate"),
    ("loans", {"loan_amount": "150000000"}, "loan_amount above the program's cap at disbursement_date"),
    (
        "loans",
        {"disbursement_date": "2024-01-15", "contract_due_date": "2023-01-15"},
        "contract_due_date before disbursement_date",
    ),
    ("loans", {"group_id": "G9"}, "unknown group_id: not in raw.groups"),
    ("transaction_points", {"transaction_day": "32"}, "transaction_day outside 1-31"),
    ("borrowers", {"category": "ho_ngheo"}, "unknown category"),
    # Register value rules: a bad row is quarantined, the rest of the register loads.
    ("groups", {"member_count": "1"}, "member_count outside 3-60: a group has 3 to 60 members, this one 1"),
    ("groups", {"village_name": ""}, "missing village_name"),
    ("borrowers", {"gender": "Nam"}, "unknown gender: gender Nam is not one of F, M"),
    ("borrowers", {"birth_year": "1850"}, "birth_year outside 1900-2015: birth_year 1850"),
    ("loans", {"term_months": "0"}, "term_months outside 1-360: term_months 0"),
    (
        "loans",
        {"group_id": ""},
        "entrusted loan without a group: organisation_code HPN and no group_id: "
        "a loan entrusted to an organisation is lent through one of its Savings and Loan Groups",
    ),
    ("transaction_points", {"transaction_office_code": ""}, "missing transaction_office_code"),
]


def _good_and_bad_rows(source: str, bad: dict) -> list[dict]:
    """The bad row (line 3) between two good ones (lines 2 and 4) that the other registers refer to."""
    key, first, last = {
        "transactions": ("transaction_id", "T1", "T3"),
        "loans": ("loan_id", "L1", "L2"),
        "transaction_points": ("transaction_point_id", "TP1", "TP3"),
        "borrowers": ("borrower_id", "B1", "B2"),
        "groups": ("group_id", "G1", "G3"),
    }[source]
    rows = [{key: first}, {key: "X2"} | bad, {key: last}]
    if source == "loans":
        rows = [row | {"borrower_id": b} for row, b in zip(rows, ["B1", "B1", "B2"])]
    if source == "borrowers":
        rows = [row | {"household_id": f"H{i}"} for i, row in enumerate(rows)]
    return rows


@pytest.mark.parametrize("source,bad,rule", BAD_ROWS, ids=[f"{s}:{r}" for s, _, r in BAD_ROWS])
def test_a_bad_row_is_quarantined_with_its_rule_and_the_good_rows_load(tmp_path, source, bad, rule):
    landing = tmp_path / "landing"
    write_registers(landing)
    rows = _good_and_bad_rows(source, bad)
    month = "2024-02" if source == "transactions" else None
    write(landing, source, rows, month=month)
    conn = open_warehouse(tmp_path / "w.duckdb")
    loads = load_all(conn, landing)

    quarantined = conn.execute("select source_name, source_line, rule, raw_row from raw.quarantine").fetchall()
    assert [(q[0], q[1], q[2]) for q in quarantined] == [(source, 3, rule)]
    raw_row = json.loads(quarantined[0][3])
    for column, value in bad.items():
        assert raw_row[column] == (value or None)

    [file_load] = [f for load in loads if load.source_name == source for f in load.files]
    assert (file_load.rows_read, file_load.rows_loaded, file_load.rows_quarantined) == (3, 2, 1)
    lines = conn.execute(
        f"select source_line from raw.{source} where source_file = ? order by 1", [file_load.source_file]
    ).fetchall()
    assert lines == [(2,), (4,)]
    # control totals: the manifest's sums equal the loaded rows' sums
    manifest = conn.execute(
        "select rows_read, rows_loaded, rows_quarantined, control_totals from audit.load_manifest "
        "where source_file = ?",
        [file_load.source_file],
    ).fetchone()
    assert manifest[:3] == (3, 2, 1)
    for column, total in json.loads(manifest[3]).items():
        assert (
            total
            == conn.execute(
                f"select coalesce(sum({column}), 0) from raw.{source} where source_file = ?", [file_load.source_file]
            ).fetchone()[0]
        )


def test_a_transaction_id_already_loaded_from_another_month_is_quarantined(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(landing, "transactions", [{"transaction_id": "T1"}], month="2024-02")
    write(
        landing,
        "transactions",
        [
            {"transaction_id": "T2", "transaction_date": "2024-03-15"},
            {"transaction_id": "T1", "transaction_date": "2024-03-15"},
        ],
        month="2024-03",
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select source_file, source_line, rule from raw.quarantine").fetchall() == [
        ("transactions/08/transactions_08_2024-03.csv", 3, "duplicate transaction_id: already loaded from another file")
    ]


def test_a_repeated_transaction_id_keeps_its_first_row(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(
        landing,
        "transactions",
        [{"transaction_id": "T1"}, {"transaction_id": "T1", "interest_amount": "1"}],
        month="2024-02",
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select transaction_id, interest_amount from raw.transactions").fetchall() == [("T1", 275000)]
    assert conn.execute("select source_line, rule from raw.quarantine").fetchall() == [
        (3, "duplicate transaction_id: repeated in the file")
    ]


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_ledger_rows_dated_outside_their_files_month_are_quarantined_and_the_month_loads(tmp_path, monkeypatch, path):
    if path == "file by file":  # the path a batch with a file to reject falls back to
        monkeypatch.setattr("dagster_project.ingest.batch.load_batch", lambda *args: False)
    landing = tmp_path / "landing"
    write_registers(landing)
    write(
        landing,
        "transactions",
        [
            {"transaction_id": "T1"},
            {"transaction_id": "T2", "transaction_date": "2024-01-31"},
            {"transaction_id": "T3", "transaction_date": "2024-03-01"},
            {"transaction_id": "T4", "transaction_date": "2024-02-29"},
        ],
        month="2024-02",
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    loads = load_all(conn, landing)

    source_file = "transactions/08/transactions_08_2024-02.csv"
    assert conn.execute(
        "select source_file, source_line, rule from raw.quarantine order by source_line"
    ).fetchall() == [
        (source_file, 3, "date_outside_file_month: transaction_date 2024-01-31 is not in the file's month 2024-02"),
        (source_file, 4, "date_outside_file_month: transaction_date 2024-03-01 is not in the file's month 2024-02"),
    ]
    assert conn.execute("select transaction_id from raw.transactions order by 1").fetchall() == [("T1",), ("T4",)]
    [file_load] = [f for load in loads if load.source_name == "transactions" for f in load.files]
    assert (file_load.rows_read, file_load.rows_loaded, file_load.rows_quarantined) == (4, 2, 2)


def test_rows_after_the_reorganisation_load_with_new_commune_codes(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(landing, "transactions", [{"transaction_date": "2025-07-15", "commune_code": NEW_COMMUNE}], month="2025-07")
    write(
        landing,
        "transactions",
        [{"transaction_id": "T0", "transaction_date": "2025-06-15", "commune_code": OLD_COMMUNE}],
        month="2025-06",
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    assert conn.execute("select count(*) from raw.transactions").fetchone()[0] == 2


def _truncated(landing):
    text = csv_text("transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}])
    return text[: text.rindex(",T", 0, len(text) - 5)]


def _parquet(rows: list[dict], types: dict[str, pa.DataType] | None = None) -> bytes:
    """A transactions file as Parquet: text columns, except those given a type."""
    rows = [DEFAULTS["transactions"] | row for row in rows]
    types = types or {}
    table = pa.table(
        {
            column: pa.array([row[column] or None for row in rows], types.get(column, pa.string()))
            for column in LANDING_SOURCES["transactions"].columns
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _good_parquet():
    return _parquet(
        [{"transaction_id": "T1", "interest_amount": 275000}, {"transaction_id": "T2", "interest_amount": 275000}],
        {"interest_amount": pa.int64()},
    )


def _without_column(content: bytes, column: str) -> bytes:
    out = io.BytesIO()
    pq.write_table(pq.read_table(io.BytesIO(content)).drop_columns([column]), out)
    return out.getvalue()


# case -> (the file's format, its content, the rejection's reason)
BAD_FILES = {
    "missing column": (
        "csv",
        lambda landing: csv_text("transactions", [{}]).replace(",cause_code", "").replace(",,,,", ",,,", 1),
        "missing ['cause_code']",
    ),
    "renamed column": (
        "csv",
        lambda landing: csv_text("transactions", [{}]).replace("interest_amount", "interest"),
        "missing ['interest_amount'], unexpected ['interest']",
    ),
    "wrong delimiter": (
        "csv",
        lambda landing: csv_text("transactions", [{}]).replace(",", ";"),
        "delimiter is ';' not ','",
    ),
    "tab-delimited": (
        "csv",
        lambda landing: csv_text("transactions", [{}]).replace(",", "\t"),
        "delimiter is a tab not ','",
    ),
    "wrong encoding": (
        "csv",
        lambda landing: csv_text("transactions", [{}]).replace("interest_payment", "trả lãi").encode("utf-16"),
        "not UTF-8 (looks like UTF-16): save it as CSV UTF-8",
    ),
    "windows-1258": (
        "csv",
        lambda landing: (
            (csv_text("transactions", [{}]) + "T9,2024-02-15,L1,interest_payment,0,1,,,,,,,02200,TP1 Phan Thiết\n")
            .encode("utf-8")
            .replace("ế".encode(), b"\xea\xec")
        ),
        "not UTF-8 (looks like Windows-1258 or another legacy encoding), first on line 3 (transaction_id T9)",
    ),
    "CR line ends": (
        "csv",
        lambda landing: csv_text("transactions", [{}]).replace("\n", "\r"),
        "lines end in CR only (classic Mac): save it with LF or CRLF line ends",
    ),
    "empty file": ("csv", lambda landing: "", "empty file"),
    "header only": ("csv", lambda landing: csv_text("transactions", []), "no data rows"),
    "truncated file": (
        "csv",
        _truncated,
        "line 2 (transaction_id T1) has 14 fields where the header has 15: "
        "the file ends in the middle of this row (truncated)",
    ),
    "stray comma": (
        "csv",
        lambda landing: csv_text("transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}]).replace(
            "T2,2024-02-15", "T2,2024-02-15,"
        ),
        "line 3 (transaction_id T2) has 16 fields where the header has 15 (a ',' in a value without quotes?)",
    ),
    "missing field": (
        "csv",
        lambda landing: csv_text("transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}]).replace(
            "T1,2024-02-15,", "T1,"
        ),
        "line 2 (transaction_id T1) has 14 fields where the header has 15 "
        "(a missing field, or a line break in a value without quotes?)",
    ),
    "unclosed quote": (
        "csv",
        lambda landing: csv_text("transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}]).replace(
            "T2,2024-02-15,L1", 'T2,2024-02-15,"L1'
        ),
        "line 3: a quoted value is never closed (a stray '\"'?)",
    ),
    "truncated parquet": ("parquet", lambda landing: _good_parquet()[:-200], "Parquet file is corrupt or truncated"),
    "not parquet": (
        "parquet",
        lambda landing: csv_text("transactions", [{}]),
        "not a Parquet file (it does not begin with the Parquet marker)",
    ),
    "parquet missing column": (
        "parquet",
        lambda landing: _without_column(_good_parquet(), "cause_code"),
        "missing ['cause_code']",
    ),
    "parquet float amount": (
        "parquet",
        lambda landing: _parquet([{"interest_amount": 202500.6}], {"interest_amount": pa.float64()}),
        "column interest_amount is DOUBLE in the Parquet file, not an integer type: "
        "amounts are whole đồng and a fraction would be rounded",
    ),
    "parquet decimal amount": (
        "parquet",
        lambda landing: _parquet([{"interest_amount": 202500}], {"interest_amount": pa.decimal128(18, 2)}),
        "column interest_amount is DECIMAL(18,2) in the Parquet file, not an integer type",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_rejected_whole_and_the_rows_already_loaded_stay(tmp_path, case):
    kind, content, reason = BAD_FILES[case]
    landing = tmp_path / "landing"
    write_registers(landing)
    path = write(landing, "transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}], month="2024-02")
    if kind == "parquet":
        path.unlink()
        path = path.with_suffix(".parquet")
        path.write_bytes(_good_parquet())
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    before = conn.execute("select * from raw.transactions order by all").fetchall()
    assert len(before) == 2

    content = content(landing)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    loads = load_all(conn, landing)

    [rejected] = [f for load in loads for f in load.rejected]
    assert rejected.source_file == f"transactions/08/transactions_08_2024-02.{kind}"
    assert reason in rejected.rejection
    # In the data team's words: none of DuckDB's internals, and no value of the file quoted.
    for internal in ("Error", "read_csv", "read_parquet", "Original Line", "(?", "Phan Thi"):
        assert internal not in rejected.rejection
    assert conn.execute("select * from raw.transactions order by all").fetchall() == before
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    outcome = conn.execute(
        "select outcome, message from audit.load_manifest where source_file = ? order by finished_at desc limit 1",
        [rejected.source_file],
    ).fetchone()
    assert outcome == ("rejected", rejected.rejection)


def _file_by_file(monkeypatch, path):
    if path == "file by file":  # the path a batch with a file to reject falls back to
        monkeypatch.setattr("dagster_project.ingest.batch.load_batch", lambda *args: False)


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_parquet_amounts_of_an_integer_type_load_and_a_floating_one_rejects_its_file(tmp_path, monkeypatch, path):
    _file_by_file(monkeypatch, path)
    landing = tmp_path / "landing"
    write_registers(landing)
    folder = landing / "transactions" / "08"
    folder.mkdir(parents=True)
    # The floating file comes second in one batch: DuckDB would read it with the first file's types.
    (folder / "transactions_08_2024-02.parquet").write_bytes(
        _parquet([{"transaction_id": "T1", "interest_amount": 202500}], {"interest_amount": pa.int32()})
    )
    (folder / "transactions_08_2024-03.parquet").write_bytes(
        _parquet(
            [{"transaction_id": "T2", "transaction_date": "2024-03-15", "interest_amount": 202500.6}],
            {"interest_amount": pa.float64()},
        )
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    for source in ("transaction_points", "groups", "borrowers", "loans"):
        load_register(conn, LANDING_SOURCES[source], landing)
    transactions = LANDING_SOURCES["transactions"]
    loads = load_months(conn, transactions, landing, landing_months(landing, transactions))

    assert conn.execute("select transaction_id, interest_amount from raw.transactions").fetchall() == [("T1", 202500)]
    [rejected] = [f for load in loads for f in load.rejected]
    assert (rejected.source_file, rejected.rejection) == (
        "transactions/08/transactions_08_2024-03.parquet",
        "column interest_amount is DOUBLE in the Parquet file, not an integer type: "
        "amounts are whole đồng and a fraction would be rounded",
    )


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_a_ledger_file_for_a_month_after_the_load_month_is_rejected_whole_and_loads_once_its_month_comes(
    tmp_path, monkeypatch, path
):
    _file_by_file(monkeypatch, path)
    landing = tmp_path / "landing"
    write_registers(landing)
    write(
        landing,
        "transactions",
        [{"transaction_id": "T1", "transaction_date": TODAY.isoformat(), "commune_code": NEW_COMMUNE}],
        month=TODAY.strftime("%Y-%m"),
    )
    write(
        landing,
        "transactions",
        [{"transaction_id": "T2", "transaction_date": NEXT_MONTH.isoformat(), "commune_code": NEW_COMMUNE}],
        month=NEXT_MONTH.strftime("%Y-%m"),
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    loads = load_all(conn, landing)

    future_file = f"transactions/08/transactions_08_{NEXT_MONTH:%Y-%m}.csv"
    reason = f"month {NEXT_MONTH:%Y-%m} is after the load month {TODAY:%Y-%m}: it loads once its month has come"
    assert conn.execute("select transaction_id from raw.transactions").fetchall() == [("T1",)]
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0  # not a row's fault: the file waits
    assert [(f.source_file, f.rejection) for load in loads for f in load.rejected] == [(future_file, reason)]
    assert conn.execute(
        "select partition_key, outcome, message from audit.load_manifest where source_file = ?", [future_file]
    ).fetchall() == [(f"{NEXT_MONTH:%Y-%m}", "rejected", reason)]

    monkeypatch.setenv("PCW_LOAD_DATE", NEXT_MONTH.isoformat())  # its month has come: a later run loads it
    load_all(conn, landing)
    assert conn.execute("select transaction_id from raw.transactions order by 1").fetchall() == [("T1",), ("T2",)]
    assert conn.execute(
        "select outcome from audit.load_manifest where source_file = ? order by finished_at desc limit 1", [future_file]
    ).fetchone() == ("loaded",)


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_text_typed_in_nfd_is_loaded_in_nfc_and_groups_with_the_same_text_in_nfc(tmp_path, monkeypatch, path):
    _file_by_file(monkeypatch, path)
    landing = tmp_path / "landing"
    write_registers(landing)
    nfd = unicodedata.normalize("NFD", "Tổ 5")
    assert nfd != "Tổ 5"
    write(
        landing,
        "borrowers",
        [
            {"borrower_id": "B1", "household_id": "H1", "village_name": "Tổ 5"},
            {
                "borrower_id": "B2",
                "household_id": "H2",
                "village_name": nfd,
                "full_name": unicodedata.normalize("NFD", "Nguyễn Thị Hoa"),
            },
        ],
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)

    assert conn.execute("select village_name, count(*) from raw.borrowers group by 1").fetchall() == [("Tổ 5", 2)]
    assert conn.execute("select count(distinct full_name) from raw.borrowers").fetchone()[0] == 1
    # Joins on text match too: the borrowers' village is their group's.
    assert (
        conn.execute("select count(*) from raw.borrowers b join raw.groups g using (village_name)").fetchone()[0] == 2
    )


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_a_key_is_compared_as_it_is_stored_so_a_padded_repeat_is_a_duplicate(tmp_path, monkeypatch, path):
    """` T1` is stored as `T1`: sent after it in the same file, it is the same transaction twice."""
    _file_by_file(monkeypatch, path)
    landing = tmp_path / "landing"
    write_registers(landing)
    source_file = (
        write(landing, "transactions", [{"transaction_id": "T1"}, {"transaction_id": " T1 "}], month="2024-02")
        .relative_to(landing)
        .as_posix()
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)

    assert conn.execute("select transaction_id, source_line from raw.transactions").fetchall() == [("T1", 2)]
    assert conn.execute("select source_file, source_line, rule from raw.quarantine").fetchall() == [
        (source_file, 3, "duplicate transaction_id: repeated in the file")
    ]


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_a_quoted_line_break_and_a_blank_line_keep_the_files_line_numbers(tmp_path, monkeypatch, path):
    _file_by_file(monkeypatch, path)
    landing = tmp_path / "landing"
    write_registers(landing)
    text = csv_text(
        "borrowers",
        [
            {"borrower_id": "B1", "household_id": "H1", "village_name": "Tổ 5\n(thôn Đồng Cũ)"},  # lines 2-3
            {"borrower_id": "B9", "household_id": "H9", "category": "ho_ngheo"},  # line 4
            {"borrower_id": "B2", "household_id": "H2"},  # line 6, after a blank line
        ],
    )
    lines = text.splitlines(keepends=True)
    (landing / "borrowers" / "08" / "borrowers_08.csv").write_text(
        "".join(lines[:4]) + "\n" + "".join(lines[4:]), encoding="utf-8"
    )
    conn = open_warehouse(tmp_path / "w.duckdb")
    loads = load_all(conn, landing)

    assert conn.execute("select borrower_id, source_line from raw.borrowers order by 1").fetchall() == [
        ("B1", 2),
        ("B2", 6),
    ]
    assert conn.execute("select source_line, rule from raw.quarantine").fetchall() == [(4, "unknown category")]
    [file_load] = [f for load in loads if load.source_name == "borrowers" for f in load.files]
    assert (file_load.rows_read, file_load.rows_loaded, file_load.rows_quarantined) == (3, 2, 1)


def test_a_ledger_exported_before_a_column_joined_the_contract_loads_with_it_empty(tmp_path):
    """`loss_percent` came later: a branch's older export without it is not rejected."""
    landing = tmp_path / "landing"
    write_registers(landing)
    path = write(landing, "transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}], month="2024-02")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = io.StringIO()
    fields = [c for c in rows[0] if c != "loss_percent"]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select transaction_id, loss_percent from raw.transactions order by 1").fetchall() == [
        ("T1", None),
        ("T2", None),
    ]
    assert conn.execute("select count(*) from raw.quarantine").fetchone() == (0,)
