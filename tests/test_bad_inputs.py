"""The bad-input corpus: each class of bad row lands in quarantine with its rule and line, each
class of bad file is rejected whole with a readable reason, and nothing is lost."""

import json

import pytest

from tests.tiny_landing import NEW_COMMUNE, OLD_COMMUNE, csv_text, load_all, open_warehouse, write, write_registers

GOOD = {}
BAD_ROWS = [
    # (source, the bad row, the rule it must be quarantined for)
    ("transactions", {"transaction_date": "2024-02-30"}, "unparseable date: transaction_date"),
    ("transactions", {"interest_amount": "275.000,5"}, "unparseable bigint: interest_amount"),
    ("transactions", {"transaction_type": "principal_repayment", "principal_amount": "-1000000", "interest_amount": "0",
                      "from_bucket": "current"}, "negative amount: principal_amount"),
    ("transactions", {"loan_id": "L999"}, "unknown loan_id: not in raw.loans"),
    ("transactions", {"transaction_id": ""}, "missing key: transaction_id"),
    ("transactions", {"transaction_date": "2025-08-15"}, "unknown commune_code for the era of transaction_date"),
    ("transactions", {"commune_code": "02999"}, "unknown commune_code for the era of transaction_date"),
    ("transactions", {"transaction_type": "transfer_to_overdue", "principal_amount": "1000000", "interest_amount": "0",
                      "from_bucket": "overdue", "to_bucket": "current"},
     "from_bucket / to_bucket not allowed for the transaction_type"),
    ("transactions", {"transaction_type": "freeze", "principal_amount": "1000000", "interest_amount": "0",
                      "from_bucket": "overdue", "to_bucket": "frozen"}, "freeze or write_off without a risk cause_code"),
    ("transactions", {"transaction_type": "gia_han"}, "unknown transaction_type"),
    ("loans", {"annual_rate": "7.2", "overdue_annual_rate": "9.36"}, "annual_rate is not the program's rate at disbursement_date"),
    ("loans", {"overdue_annual_rate": "8.6"}, "overdue_annual_rate is not 1.3 x annual_rate"),
    ("loans", {"loan_amount": "150000000"}, "loan_amount above the program's cap at disbursement_date"),
    ("loans", {"disbursement_date": "2024-01-15", "contract_due_date": "2023-01-15"}, "contract_due_date before disbursement_date"),
    ("loans", {"group_id": "G9"}, "unknown group_id: not in raw.groups"),
    ("transaction_points", {"transaction_day": "32"}, "transaction_day outside 1-31"),
    ("borrowers", {"category": "ho_ngheo"}, "unknown category"),
]


def _good_and_bad_rows(source: str, bad: dict) -> list[dict]:
    """The bad row (line 3) between two good ones (lines 2 and 4) that the other registers refer to."""
    key, first, last = {
        "transactions": ("transaction_id", "T1", "T3"),
        "loans": ("loan_id", "L1", "L2"),
        "transaction_points": ("transaction_point_id", "TP1", "TP3"),
        "borrowers": ("borrower_id", "B1", "B2"),
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
    lines = conn.execute(f"select source_line from raw.{source} where source_file = ? order by 1", [file_load.source_file]).fetchall()
    assert lines == [(2,), (4,)]
    # control totals: the manifest's sums equal the loaded rows' sums
    manifest = conn.execute(
        "select rows_read, rows_loaded, rows_quarantined, control_totals from audit.load_manifest where source_file = ?",
        [file_load.source_file],
    ).fetchone()
    assert manifest[:3] == (3, 2, 1)
    for column, total in json.loads(manifest[3]).items():
        assert total == conn.execute(f"select coalesce(sum({column}), 0) from raw.{source} where source_file = ?",
                                     [file_load.source_file]).fetchone()[0]


def test_a_transaction_id_already_loaded_from_another_month_is_quarantined(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(landing, "transactions", [{"transaction_id": "T1"}], month="2024-02")
    write(landing, "transactions", [{"transaction_id": "T2", "transaction_date": "2024-03-15"},
                                    {"transaction_id": "T1", "transaction_date": "2024-03-15"}], month="2024-03")
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select source_file, source_line, rule from raw.quarantine").fetchall() == [
        ("transactions/08/transactions_08_2024-03.csv", 3, "duplicate transaction_id: already loaded from another file")
    ]


def test_a_repeated_transaction_id_keeps_its_first_row(tmp_path):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(landing, "transactions", [{"transaction_id": "T1"}, {"transaction_id": "T1", "interest_amount": "1"}], month="2024-02")
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
    write(landing, "transactions", [
        {"transaction_id": "T1"},
        {"transaction_id": "T2", "transaction_date": "2024-01-31"},
        {"transaction_id": "T3", "transaction_date": "2024-03-01"},
        {"transaction_id": "T4", "transaction_date": "2024-02-29"},
    ], month="2024-02")
    conn = open_warehouse(tmp_path / "w.duckdb")
    loads = load_all(conn, landing)

    source_file = "transactions/08/transactions_08_2024-02.csv"
    assert conn.execute("select source_file, source_line, rule from raw.quarantine order by source_line").fetchall() == [
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
    write(landing, "transactions", [{"transaction_id": "T0", "transaction_date": "2025-06-15", "commune_code": OLD_COMMUNE}], month="2025-06")
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    assert conn.execute("select count(*) from raw.transactions").fetchone()[0] == 2


def _truncated(landing):
    text = csv_text("transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}])
    return text[: text.rindex(",T", 0, len(text) - 5)]


BAD_FILES = {
    "missing column": (lambda landing: csv_text("transactions", [{}]).replace(",cause_code", "").replace(",,,,", ",,,"),
                       "missing ['cause_code']"),
    "renamed column": (lambda landing: csv_text("transactions", [{}]).replace("interest_amount", "interest"),
                       "missing ['interest_amount'], unexpected ['interest']"),
    "wrong delimiter": (lambda landing: csv_text("transactions", [{}]).replace(",", ";"), "not comma-delimited"),
    "wrong encoding": (lambda landing: csv_text("transactions", [{}]).replace("interest_payment", "trả lãi").encode("utf-16"),
                       "not UTF-8 encoded"),
    "windows-1258": (lambda landing: (csv_text("transactions", [{}]) + "T9,2024-02-15,L1,interest_payment,0,1,,,,,,,02200,TP1 Phan Thiết\n")
                     .encode("utf-8").replace("ế".encode(), b"\xea\xec"), "not utf-8 encoded"),
    "empty file": (lambda landing: "", "empty file"),
    "header only": (lambda landing: csv_text("transactions", []), "no data rows"),
    "truncated file": (_truncated, "Expected Number of Columns"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_rejected_whole_and_the_rows_already_loaded_stay(tmp_path, case):
    landing = tmp_path / "landing"
    write_registers(landing)
    path = write(landing, "transactions", [{"transaction_id": "T1"}, {"transaction_id": "T2"}], month="2024-02")
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    before = conn.execute("select * from raw.transactions order by all").fetchall()

    content, reason = BAD_FILES[case]
    content = content(landing)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    loads = load_all(conn, landing)

    [rejected] = [f for load in loads for f in load.rejected]
    assert rejected.source_file == "transactions/08/transactions_08_2024-02.csv"
    assert reason.lower() in rejected.rejection.lower()
    assert conn.execute("select * from raw.transactions order by all").fetchall() == before
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    outcome = conn.execute(
        "select outcome, message from audit.load_manifest where source_file = ? order by finished_at desc limit 1",
        [rejected.source_file],
    ).fetchone()
    assert outcome == ("rejected", rejected.rejection)
