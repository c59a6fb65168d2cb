"""Row-by-row suites are validated on distinct rows (quality/expectations.py): the outcome and the
unexpected counts are those of validating every row, and the examples name the rows."""

import duckdb
import pandas as pd
import pytest

from dagster_project.quality.expectations import load_suite, suite_columns, validate_frame, validate_table

pytestmark = pytest.mark.unit


def _transactions(conn, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    conn.execute("create schema if not exists raw")
    conn.register("frame", frame)
    conn.execute("create or replace table raw.transactions as select * from frame")


def _row(i: int, **changes) -> dict:
    row = {
        "transaction_id": f"T{i}",
        "loan_id": f"L{i % 3}",
        "transaction_date": pd.Timestamp("2024-03-15"),
        "transaction_type": "interest_payment",
        "principal_amount": 0,
        "interest_amount": 1000 * i,
        "from_bucket": None,
        "to_bucket": None,
        "cause_code": None,
        "commune_code": "02200",
        "source_file": "transactions/08/transactions_08_2024-03.parquet",
    }
    return row | changes


def test_distinct_rows_give_the_outcome_of_every_row():
    suite = load_suite("raw", "transactions")
    rows = [_row(i) for i in range(50)] + [
        _row(50, commune_code=None),
        _row(51, loan_id=None),
        _row(52, loan_id=None),
        _row(53, transaction_date=None),
    ]
    with duckdb.connect() as conn:
        _transactions(conn, [_row(i) for i in range(50)])
        assert all(o.success for o in validate_table(conn, "raw", "transactions", ["2024-03"]))
        _transactions(conn, rows)
        fast = {o.rule: o for o in validate_table(conn, "raw", "transactions", ["2024-03"])}
    full = {o.rule: o for o in validate_frame(pd.DataFrame(rows)[suite_columns(suite)], suite)}

    def verdicts(outcomes):
        return {rule: (o.success, o.unexpected_count) for rule, o in outcomes.items()}

    assert verdicts(fast) == verdicts(full)
    assert fast["loan_id is present"].unexpected_count == 2
    assert not fast["commune_code is present"].success and not fast["transaction_date is present"].success
    # examples name the rows: file and key (this table has no line numbers), then the value
    assert fast["loan_id is present"].examples == [
        f"{_row(51)['source_file']} transaction_id=T{i} loan_id empty" for i in (51, 52)
    ]
