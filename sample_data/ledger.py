"""The loan ledger: principal movements from each loan's schedule and fate, and monthly interest."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample_data.config import GenerationConfig
from sample_data.loans import RISK_CAUSE_SHARES, RISK_CAUSES, LoanBook, month_day

BUCKETS = np.array([None, "current", "overdue", "frozen"], dtype=object)
NONE, CURRENT, OVERDUE, FROZEN = 0, 1, 2, 3
# Sort order of same-day rows: interest is collected on the balance before the day's principal moves.
TYPE_ORDER = [
    "interest_payment",
    "opening_balance",
    "disbursement",
    "disbursement_reversal",
    "extension",
    "rescheduling",
    "transfer_to_overdue",
    "principal_repayment",
    "freeze",
    "write_off",
]
REVERSAL_SHARE = 0.003


DEFAULTS = {
    "from_bucket": NONE,
    "to_bucket": NONE,
    "cause_code": None,
    "new_due_date": np.datetime64("NaT", "D"),
    "frozen_until": np.datetime64("NaT", "D"),
    "loss_percent": np.nan,
    "interest_amount": 0,
    "role": "",
}


def _events(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    for name, value in DEFAULTS.items():
        if name not in frame:
            frame[name] = value
    return frame


def principal_events(book: LoanBook, rng: np.random.Generator) -> pd.DataFrame:
    loans, inst = book.loans, book.instalments
    fate = loans.fate.to_numpy()[inst.loan_index]
    # The instalment where trouble starts: any but the first for most loans.
    trouble_no = 1 + (rng.random(len(loans)) * loans.instalment_count.to_numpy()).astype(int)
    k = trouble_no[inst.loan_index]
    no = inst.instalment_no.to_numpy()
    due = inst.due_date.to_numpy()
    principal = inst.principal_due.to_numpy()
    loan = inst.loan_index.to_numpy()
    frames = []

    disbursed = loans.disbursement_date.to_numpy()
    frames.append(
        _events(
            loan_index=loans.loan_index.to_numpy(),
            date=disbursed,
            transaction_type="disbursement",
            principal_amount=loans.loan_amount.to_numpy(),
            to_bucket=CURRENT,
        )
    )
    # A few disbursements are posted with a wrong amount, reversed the same day and posted again.
    wrong = rng.random(len(loans)) < REVERSAL_SHARE
    wrong_amount = loans.loan_amount.to_numpy()[wrong] + 10_000_000
    frames.append(
        _events(
            loan_index=loans.loan_index.to_numpy()[wrong],
            date=disbursed[wrong],
            transaction_type="disbursement",
            principal_amount=wrong_amount,
            to_bucket=CURRENT,
            role="reversed",
        )
    )
    frames.append(
        _events(
            loan_index=loans.loan_index.to_numpy()[wrong],
            date=disbursed[wrong],
            transaction_type="disbursement_reversal",
            principal_amount=wrong_amount,
            from_bucket=CURRENT,
            role="reversal",
        )
    )

    paid_on_time = (
        (fate == "repaid")
        | ((fate == "extended") & (no != k))
        | ((fate == "overdue_recovered") & (no != k))
        | ((fate == "overdue_unpaid") & (no < k))
        | ((fate == "frozen") & (no < k))
    )
    frames.append(
        _events(
            loan_index=loan[paid_on_time],
            date=due[paid_on_time],
            transaction_type="principal_repayment",
            principal_amount=principal[paid_on_time],
            from_bucket=CURRENT,
        )
    )

    extended = (fate == "extended") & (no == k)
    new_due = (due[extended].astype("datetime64[M]") + 12).astype("datetime64[D]") + (
        due[extended] - due[extended].astype("datetime64[M]").astype("datetime64[D]")
    )
    # One in ten of these loans has the instalment rescheduled instead (điều chỉnh kỳ hạn): moved within
    # the contract's term, to the last instalment's due date, when that is more than a year away.
    last_due = pd.Series(due).groupby(loan).transform("max").to_numpy()[extended]
    rescheduled = (loan[extended] % 10 == 0) & (new_due < last_due)
    new_due = np.where(rescheduled, last_due, new_due)
    frames.append(
        _events(
            loan_index=loan[extended],
            date=due[extended],
            transaction_type=np.where(rescheduled, "rescheduling", "extension"),
            principal_amount=principal[extended],
            new_due_date=new_due,
        )
    )
    frames.append(
        _events(
            loan_index=loan[extended],
            date=new_due,
            transaction_type="principal_repayment",
            principal_amount=principal[extended],
            from_bucket=CURRENT,
        )
    )

    overdue = (
        ((fate == "overdue_recovered") & (no == k))
        | ((fate == "overdue_unpaid") & (no >= k))
        | ((fate == "frozen") & (no == k))
    )
    frames.append(
        _events(
            loan_index=loan[overdue],
            date=due[overdue],
            transaction_type="transfer_to_overdue",
            principal_amount=principal[overdue],
            from_bucket=CURRENT,
            to_bucket=OVERDUE,
        )
    )
    recovered = (fate == "overdue_recovered") & (no == k)
    late = due[recovered] + (30 * rng.integers(1, 10, recovered.sum())).astype("timedelta64[D]")
    frames.append(
        _events(
            loan_index=loan[recovered],
            date=late,
            transaction_type="principal_repayment",
            principal_amount=principal[recovered],
            from_bucket=OVERDUE,
        )
    )

    # Frozen: the missed instalment and the rest of the loan move to frozen some months later.
    frozen = (fate == "frozen") & (no == k)
    rest = pd.Series(np.where((fate == "frozen") & (no > k), principal, 0)).groupby(loan).sum()
    f_loan = loan[frozen]
    f_date = due[frozen] + (30 * rng.integers(3, 10, frozen.sum())).astype("timedelta64[D]")
    cause = rng.choice(RISK_CAUSES, frozen.sum(), p=RISK_CAUSE_SHARES)
    years = np.where(cause == "K1", rng.choice([3, 5], frozen.sum()), 2)
    # a K1 freeze records the share of the borrower's assets lost: 40-79 % for 3 years, 80-100 % for 5
    loss = np.where(cause == "K1", np.where(years == 3, 40 + f_loan % 40, 80 + f_loan % 21), np.nan)
    until = (f_date.astype("datetime64[M]") + 12 * years).astype("datetime64[D]")
    frames.append(
        _events(
            loan_index=f_loan,
            date=f_date,
            transaction_type="freeze",
            principal_amount=principal[frozen],
            from_bucket=OVERDUE,
            to_bucket=FROZEN,
            cause_code=cause,
            frozen_until=until,
            loss_percent=loss,
        )
    )
    rest_amount = rest.reindex(f_loan).to_numpy()
    has_rest = rest_amount > 0
    frames.append(
        _events(
            loan_index=f_loan[has_rest],
            date=f_date[has_rest],
            transaction_type="freeze",
            principal_amount=rest_amount[has_rest],
            from_bucket=CURRENT,
            to_bucket=FROZEN,
            cause_code=cause[has_rest],
            frozen_until=until[has_rest],
            loss_percent=loss[has_rest],
        )
    )
    # At the end of the freeze the rest is repaid; debt of the dead, the missing and the departed is
    # written off, a quarter later: until then it stays frozen past its expiry.
    total = principal[frozen] + rest_amount
    written = np.isin(cause, ["K4a", "K4c", "K5"])
    frames.append(
        _events(
            loan_index=f_loan,
            date=np.where(written, until + np.timedelta64(92, "D"), until),
            transaction_type=np.where(written, "write_off", "principal_repayment"),
            principal_amount=total,
            from_bucket=FROZEN,
            cause_code=np.where(written, cause, None),
        )
    )
    return pd.concat(frames, ignore_index=True)


def with_balances(events: pd.DataFrame) -> pd.DataFrame:
    """Sort by loan and date; add each loan's current / overdue / frozen balance after each row."""
    order = pd.Categorical(events.transaction_type, TYPE_ORDER).codes
    events = events.assign(type_order=order).sort_values(
        ["loan_index", "date", "type_order"], kind="stable", ignore_index=True
    )
    amount = events.principal_amount.to_numpy()
    loan = events.loan_index.to_numpy()
    start = np.r_[True, loan[1:] != loan[:-1]]
    for bucket, name in ((CURRENT, "current"), (OVERDUE, "overdue"), (FROZEN, "frozen")):
        delta = np.where(events.to_bucket.to_numpy() == bucket, amount, 0) - np.where(
            events.from_bucket.to_numpy() == bucket, amount, 0
        )
        cumulative = np.cumsum(delta)
        offset = np.maximum.accumulate(np.where(start, np.arange(len(loan)), 0))
        events[name] = cumulative - (cumulative[offset] - delta[offset])
    return events


def interest_rows(book: LoanBook, events: pd.DataFrame, config: GenerationConfig) -> pd.DataFrame:
    """Interest collected each month on the transaction day, on the balance before that day's movements.
    Frozen debt accrues none; loans stuck in overdue pay none."""
    loans = book.loans
    last_event = events.groupby("loan_index").date.max()
    end = np.datetime64(config.end_date)
    outstanding_at_end = events.groupby("loan_index")[["current", "overdue", "frozen"]].last().sum(axis=1) > 0
    last = np.where(
        outstanding_at_end.reindex(loans.loan_index).to_numpy(), end, last_event.reindex(loans.loan_index).to_numpy()
    )
    first_month = np.maximum(loans.disbursement_month.to_numpy() + 1, (config.start_year - 1970) * 12)
    last_month = np.minimum(last.astype("datetime64[M]").astype(int), (config.end_year - 1970) * 12 + 11)
    months = np.maximum(0, last_month - first_month + 1)
    loan = np.repeat(loans.loan_index.to_numpy(), months)
    month = np.repeat(first_month, months) + (np.arange(months.sum()) - np.repeat(np.cumsum(months) - months, months))
    date = month_day(month.astype("datetime64[M]"), loans.transaction_day.to_numpy()[loan])

    # Balance before the day: the last event of the loan dated before it.
    event_key = events.loan_index.to_numpy() * 200_000 + events.date.to_numpy().astype("datetime64[D]").astype(np.int64)
    row_key = loan * 200_000 + date.astype(np.int64)
    position = np.searchsorted(event_key, row_key, side="left") - 1
    valid = position >= 0
    valid[valid] &= events.loan_index.to_numpy()[position[valid]] == loan[valid]
    balance = {
        b: np.where(valid, events[b].to_numpy()[np.maximum(position, 0)], 0) for b in ("current", "overdue", "frozen")
    }
    rate = loans.annual_rate.to_numpy()[loan]
    overdue_rate = loans.overdue_annual_rate.to_numpy()[loan]
    interest = np.round((balance["current"] * rate + balance["overdue"] * overdue_rate) / 1200).astype(np.int64)
    stuck = np.isin(loans.fate.to_numpy()[loan], ["overdue_unpaid", "frozen"]) & (balance["overdue"] > 0)
    keep = valid & (interest > 0) & (balance["frozen"] == 0) & ~stuck
    return _events(
        loan_index=loan[keep],
        date=date[keep],
        transaction_type="interest_payment",
        principal_amount=np.zeros(keep.sum(), dtype=np.int64),
        interest_amount=interest[keep],
    )


def opening_balances(events: pd.DataFrame, config: GenerationConfig) -> pd.DataFrame:
    """Loans disbursed before the ledger starts enter it through one `opening_balance` row on its
    first day, carrying what they owed then; their earlier rows are not in the extract."""
    start = np.datetime64(config.start_date)
    before = events[events.date < start]
    carried = before.groupby("loan_index")[["current", "overdue", "frozen"]].last().sum(axis=1)
    carried = carried[carried > 0]
    opening = _events(
        loan_index=carried.index.to_numpy(),
        date=np.full(len(carried), start),
        transaction_type="opening_balance",
        principal_amount=carried.to_numpy(),
        to_bucket=CURRENT,
    )
    return pd.concat(
        [opening, events[events.date >= start].drop(columns=["current", "overdue", "frozen", "type_order"])],
        ignore_index=True,
    )
