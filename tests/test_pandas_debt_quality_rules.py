"""The pandas scripts' rules on hand-made landing files: each loan's months, days past due first in,
first out, and the freeze in force (bench/pandas_debt_quality.py); where a loan sits on the 2025
map (bench/pandas_landing.py)."""

import pandas as pd
import pytest

from bench.pandas_debt_quality import days_past_due, freeze_cause, loan_months
from bench.pandas_landing import read_ledger, read_loans

pytestmark = pytest.mark.unit

# id, date, loan, type, principal, from, to, interest, cause
ROWS = [
    ("T01", "2024-01-05", "L2", "disbursement", 500, "", "current", 0, ""),
    ("T02", "2024-01-10", "L1", "disbursement", 1000, "", "current", 0, ""),
    ("T03", "2024-01-02", "L3", "disbursement", 300, "", "current", 0, ""),
    ("T04", "2024-01-20", "L3", "transfer_to_overdue", 300, "current", "overdue", 0, ""),
    ("T05", "2024-02-15", "L1", "transfer_to_overdue", 100, "current", "overdue", 0, ""),
    ("T06", "2024-03-05", "L2", "principal_repayment", 500, "current", "", 0, ""),
    ("T07", "2024-03-15", "L1", "transfer_to_overdue", 100, "current", "overdue", 0, ""),
    # settles all of February's transfer and half of March's
    ("T08", "2024-04-10", "L1", "principal_repayment", 150, "overdue", "", 0, ""),
    ("T09", "2024-05-20", "L1", "freeze", 50, "overdue", "frozen", 0, "K4c"),
    ("T10", "2024-06-10", "L1", "write_off", 50, "frozen", "", 7, "K4c"),
]


@pytest.fixture
def ledger(tmp_path):
    folder = tmp_path / "transactions" / "08"
    folder.mkdir(parents=True)
    frame = pd.DataFrame(
        ROWS,
        columns=[
            "transaction_id",
            "transaction_date",
            "loan_id",
            "transaction_type",
            "principal_amount",
            "from_bucket",
            "to_bucket",
            "interest_amount",
            "cause_code",
        ],
    ).assign(commune_code="02215")
    frame.to_csv(folder / "transactions_08_2024-01.csv", index=False)
    return read_ledger(tmp_path, extra=("transaction_type", "interest_amount", "cause_code"))


def by_loan_month(state: pd.DataFrame, values) -> dict:
    return {(r.loan_id, f"{r.as_of_date:%Y-%m}"): v for r, v in zip(state.itertuples(), values)}


def test_a_loan_runs_until_it_owes_nothing_or_the_ledger_ends(ledger):
    state = loan_months(ledger)
    months = state.groupby("loan_id").as_of_date.agg(lambda d: [f"{m:%m}" for m in d]).to_dict()
    to_june = ["01", "02", "03", "04", "05", "06"]
    assert months == {"L1": to_june, "L2": ["01", "02", "03"], "L3": to_june}
    l1 = state[state.loan_id == "L1"].set_index(state.as_of_date[state.loan_id == "L1"].dt.month)
    assert l1.loc[4, ["current_principal", "overdue_principal", "frozen_principal"]].tolist() == [800, 50, 0]
    assert l1.loc[5, ["overdue_principal", "frozen_principal"]].tolist() == [0, 50]
    written_off = ["outstanding_principal", "principal_written_off", "interest_written_off"]
    assert l1.loc[6, written_off].tolist() == [800, 50, 7]


def test_days_past_due_count_from_the_oldest_transfer_not_settled(ledger):
    state = loan_months(ledger)
    days = by_loan_month(state, days_past_due(ledger, state))
    assert [days["L1", f"2024-0{m}"] for m in range(1, 7)] == [0, 14, 45, 46, 0, 0]
    assert [days["L3", f"2024-0{m}"] for m in range(1, 7)] == [11, 40, 71, 101, 132, 162]
    assert all(days["L2", f"2024-0{m}"] == 0 for m in range(1, 4))


def test_the_freeze_in_force_is_the_last_one_posted(ledger):
    state = loan_months(ledger)
    causes = by_loan_month(state, freeze_cause(ledger, state))
    assert causes["L1", "2024-05"] == causes["L1", "2024-06"] == "K4c"
    assert pd.isna(causes["L1", "2024-04"]) and pd.isna(causes["L3", "2024-06"])


def test_a_groups_loans_sit_where_the_group_sits(tmp_path):
    """G1's latest row after the reorganisation is a deposit in N1, later than its loan L1's own
    row in N2: L1 goes with its group to N1. L2, lent directly, takes its own row's N2; L3, lent
    directly after the reorganisation with no row since, stays in its registered N3."""
    files = {
        "groups": [("group_id", "commune_code", "established_date"), ("G1", "OLD", "2010-01-01")],
        "savings_deposits": [
            ("group_id", "deposit_id", "deposit_date", "commune_code"),
            ("G1", "D1", "2025-08-01", "N1"),
        ],
        "transaction_points": [("transaction_point_id", "transaction_office_code"), ("TP1", "TO1")],
        "loans": [
            (
                "loan_id",
                "group_id",
                "program_code",
                "funding_source",
                "organisation_code",
                "disbursement_date",
                "commune_code",
                "transaction_point_id",
            ),
            ("L1", "G1", "01", "central", "HPN", "2020-01-01", "OLD", "TP1"),
            ("L2", "", "01", "central", "", "2020-01-01", "OLD", "TP1"),
            ("L3", "", "01", "central", "", "2025-08-01", "N3", "TP1"),
        ],
        "transactions": [
            ("transaction_id", "transaction_date", "loan_id", "principal_amount", "from_bucket", "to_bucket"),
            ("T1", "2025-07-15", "L1", "10", "current", ""),
            ("T2", "2025-09-01", "L2", "10", "current", ""),
            ("T3", "2025-08-01", "L3", "100", "", "current"),
            ("T4", "2025-06-01", "L3", "0", "", ""),
        ],
    }
    for source, (header, *rows) in files.items():
        folder = tmp_path / source / "08"
        folder.mkdir(parents=True)
        frame = pd.DataFrame(rows, columns=header)
        if source == "transactions":
            frame["commune_code"] = ["N2", "N2", "N3", "OLD"]
        frame.to_csv(folder / f"{source}_08.csv", index=False)
    ledger = read_ledger(tmp_path)
    loans = read_loans(tmp_path, ledger).set_index("loan_id")
    assert loans.new_commune_code.to_dict() == {"L1": "N1", "L2": "N2", "L3": "N3"}
    assert loans.organisation_code.to_dict() == {"L1": "HPN", "L2": "DIRECT", "L3": "DIRECT"}
