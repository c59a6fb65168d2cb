"""The loan ledger: principal movements from each loan's schedule and fate, bucket balances after
every movement, opening balances at the ledger's start, and interest collected each month.

Principal movements for the whole history are built at once (a few per loan); interest rows, one
per loan and month, are built month by month while writing, from the balance before the day's
movements (interest is collected on the balance owed before that day's repayments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.sample_data.dates import month_of, on_day
from dagster_project.sample_data.fates import CHRONIC, DISASTER, EARLY, EXTEND, LATE, LEFT, NORMAL

TYPES = np.array(["opening_balance", "disbursement", "disbursement_reversal", "principal_repayment", "interest_payment",
                  "transfer_to_overdue", "extension", "freeze", "write_off"], dtype=object)
T = {name: i for i, name in enumerate(TYPES)}
BUCKETS = np.array([None, "current", "overdue", "frozen"], dtype=object)
NONE, CURRENT, OVERDUE, FROZEN = 0, 1, 2, 3
REVERSAL_SHARE = 0.003  # disbursements posted with a wrong amount, reversed and posted again the same day
# Order of a loan's rows within a day: interest on the balance before the day's movements first,
# then a cancelled posting before its reversal, transfers before the repayments and freezes they feed.
ORDER = {"interest": 0, "opening": 1, "wrong_disbursement": 2, "reversal": 3, "disbursement": 4, "extension": 5,
         "transfer": 6, "repay_overdue": 7, "repay_current": 8, "freeze_overdue": 9, "freeze_current": 10,
         "write_off_overdue": 11, "write_off_current": 12, "frozen_end": 13}
NO_DATE = -1
DAY_BITS = 16  # key = loan << DAY_BITS | day - DAY_BASE, for balance look-ups
DAY_BASE = int(np.datetime64("1990-01-01").astype(np.int64))

COLUMNS = ("loan", "day", "order", "type", "amount", "source", "target", "cause", "new_due", "frozen_until", "interest")


def _rows(loan, day, order, type_, amount, source=NONE, target=NONE, cause=-1, new_due=NO_DATE, frozen_until=NO_DATE,
          interest=0) -> dict[str, np.ndarray]:
    n = len(loan)
    return {
        "loan": np.asarray(loan, dtype=np.int64), "day": np.asarray(day, dtype=np.int64),
        "order": np.full(n, ORDER[order], dtype=np.int8), "type": np.full(n, T[type_], dtype=np.int8),
        "amount": np.asarray(amount, dtype=np.int64), "source": np.full(n, source, dtype=np.int8),
        "target": np.full(n, target, dtype=np.int8), "cause": np.broadcast_to(np.asarray(cause, dtype=np.int8), (n,)),
        "new_due": np.broadcast_to(np.asarray(new_due, dtype=np.int64), (n,)),
        "frozen_until": np.broadcast_to(np.asarray(frozen_until, dtype=np.int64), (n,)),
        "interest": np.broadcast_to(np.asarray(interest, dtype=np.int64), (n,)),
    }


def _concat(parts: list[dict]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}


def principal_events(rng: np.random.Generator, loans: pd.DataFrame, schedules: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every principal movement (and extension) of every loan, sorted by loan, day and order."""
    n = len(loans)
    tday = loans.transaction_day.to_numpy()
    fate = loans.fate.to_numpy()
    k_of = loans.trouble_no.to_numpy()
    delay_of = loans.delay.to_numpy()
    resolve_month = loans.freeze_month.to_numpy()
    left_month = loans.left_month.to_numpy()
    loan = schedules.loan.to_numpy()
    j = schedules.instalment_no.to_numpy()
    due_month = schedules.due_month.to_numpy()
    due_day = schedules.due_day.to_numpy()
    p = schedules.principal.to_numpy()
    f, k, resolve = fate[loan], k_of[loan], resolve_month[loan]
    parts = []

    # Disbursements; a few posted wrong, reversed and posted again.
    everyone = np.arange(n)
    disbursed = loans.disbursement_day.to_numpy()
    amount = loans.amount.to_numpy()
    wrong = np.flatnonzero(rng.random(n) < REVERSAL_SHARE)
    slip = amount[wrong] + rng.choice([1, 5, 10], len(wrong)) * 1_000_000
    parts.append(_rows(wrong, disbursed[wrong], "wrong_disbursement", "disbursement", slip, target=CURRENT))
    parts.append(_rows(wrong, disbursed[wrong], "reversal", "disbursement_reversal", slip, source=CURRENT))
    parts.append(_rows(everyone, disbursed, "disbursement", "disbursement", amount, target=CURRENT))

    # Instalments repaid on their due date.
    on_time = ((f == NORMAL) | ((f == EARLY) & (j < k)) | (np.isin(f, [EXTEND, LATE]) & (j != k)) | ((f == CHRONIC) & (j < k))
               | ((f == DISASTER) & (due_month < resolve)) | ((f == LEFT) & (due_month <= left_month[loan])))
    parts.append(_rows(loan[on_time], due_day[on_time], "repay_current", "principal_repayment", p[on_time], source=CURRENT))

    # Repaid early: the rest of the loan with the troubled instalment.
    rest = np.bincount(loan[(f == EARLY) & (j >= k)], p[(f == EARLY) & (j >= k)], minlength=n).astype(np.int64)
    early = (f == EARLY) & (j == k)
    parts.append(_rows(loan[early], due_day[early], "repay_current", "principal_repayment", rest[loan[early]], source=CURRENT))

    # Extended: a new due date for the instalment, repaid then.
    extended = (f == EXTEND) & (j == k)
    new_due = on_day(due_month[extended] + delay_of[loan[extended]], tday[loan[extended]])
    parts.append(_rows(loan[extended], due_day[extended], "extension", "extension", p[extended], new_due=new_due))
    parts.append(_rows(loan[extended], new_due, "repay_current", "principal_repayment", p[extended], source=CURRENT))

    # Paid late: overdue the day after its due date, repaid from overdue months later.
    late = (f == LATE) & (j == k)
    parts.append(_rows(loan[late], due_day[late] + 1, "transfer", "transfer_to_overdue", p[late], source=CURRENT, target=OVERDUE))
    paid = on_day(due_month[late] + delay_of[loan[late]], tday[loan[late]])
    parts.append(_rows(loan[late], paid, "repay_overdue", "principal_repayment", p[late], source=OVERDUE))

    # Chronic arrears and borrowers who left: every instalment falling due goes overdue until the
    # resolution (repayment, freeze or write-off); a disaster freezes what is still current.
    troubled = ((f == CHRONIC) & (j >= k)) | ((f == LEFT) & (due_month > left_month[loan])) | (f == DISASTER)
    to_overdue = troubled & (due_month < resolve) & (f != DISASTER)
    parts.append(_rows(loan[to_overdue], due_day[to_overdue] + 1, "transfer", "transfer_to_overdue", p[to_overdue],
                       source=CURRENT, target=OVERDUE))
    overdue = np.bincount(loan[to_overdue], p[to_overdue], minlength=n).astype(np.int64)
    still_current = troubled & (due_month >= resolve)
    current = np.bincount(loan[still_current], p[still_current], minlength=n).astype(np.int64)
    parts += _resolutions(loans, overdue, current)

    events = _concat(parts)
    order = np.lexsort((events["order"], events["day"], events["loan"]))
    return {c: v[order] for c, v in events.items()}


def _resolutions(loans: pd.DataFrame, overdue: np.ndarray, current: np.ndarray) -> list[dict]:
    fate = loans.fate.to_numpy()
    tday = loans.transaction_day.to_numpy()
    outcome = loans.outcome.to_numpy()
    cause = loans.cause.to_numpy()
    resolve_month = loans.freeze_month.to_numpy()
    rows = np.flatnonzero(np.isin(fate, [CHRONIC, LEFT, DISASTER]) & (overdue + current > 0))
    when = on_day(resolve_month[rows], tday[rows])
    # Interest owed but never collected during the arrears, written off with the principal.
    first_due = loans.month.to_numpy() + loans.grace.to_numpy() + loans.trouble_no.to_numpy() * loans.interval.to_numpy()
    arrears_months = np.where(fate == LEFT, resolve_month - loans.left_month.to_numpy(),
                              np.where(fate == CHRONIC, resolve_month - first_due, 0))
    unpaid = np.round((overdue + current) * loans.overdue_rate.to_numpy() / 1200 * np.maximum(arrears_months, 0) / 2).astype(np.int64)
    parts = []

    def both_buckets(r, d, name, type_, **extra):
        """The overdue part, then the current part, of the troubled debt (rows only where > 0);
        `extra` arrays are per loan in `r`."""
        for bucket, amounts in ((OVERDUE, overdue[r]), (CURRENT, current[r])):
            has = amounts > 0
            parts.append(_rows(r[has], d[has], f"{name}_{BUCKETS[bucket]}", type_, amounts[has], source=bucket,
                               **{k: v[has] for k, v in extra.items()}))

    chosen = outcome[rows] == "repay"
    both_buckets(rows[chosen], when[chosen], "repay", "principal_repayment")
    chosen = outcome[rows] == "write_off"
    r = rows[chosen]
    # The unpaid interest is written off with the overdue part (or the current part when nothing was overdue).
    both_buckets(r, when[chosen], "write_off", "write_off", cause=cause[r], interest=unpaid[r])
    written_interest = parts[-1]["interest"]
    parts[-1]["interest"] = np.where(overdue[parts[-1]["loan"]] > 0, 0, written_interest)

    chosen = outcome[rows] == "freeze"
    r = rows[chosen]
    until = on_day(resolve_month[r] + loans.frozen_months.to_numpy()[r], tday[r])
    both_buckets(r, when[chosen], "freeze", "freeze", cause=cause[r], frozen_until=until)
    for part in parts[-2:]:
        part["target"] = np.full(len(part["loan"]), FROZEN, dtype=np.int8)
    # At the end of the freeze the frozen debt is written off (with the unpaid interest) or repaid.
    total = overdue[r] + current[r]
    written = loans.written_off.to_numpy()[r]
    parts.append(_rows(r[written], until[written], "frozen_end", "write_off", total[written], source=FROZEN,
                       cause=cause[r][written], interest=unpaid[r][written]))
    parts.append(_rows(r[~written], until[~written], "frozen_end", "principal_repayment", total[~written], source=FROZEN))
    return parts


@dataclass
class Balances:
    """Each event's bucket balances after it, and look-ups of a loan's balance at a date."""

    key: np.ndarray
    current: np.ndarray
    overdue: np.ndarray
    frozen: np.ndarray

    @classmethod
    def of(cls, events: dict[str, np.ndarray]) -> "Balances":
        loan, amount = events["loan"], events["amount"]
        start = np.flatnonzero(np.r_[True, loan[1:] != loan[:-1]])
        run_start = np.repeat(start, np.diff(np.r_[start, len(loan)]))
        balances = []
        for bucket in (CURRENT, OVERDUE, FROZEN):
            delta = np.where(events["target"] == bucket, amount, 0) - np.where(events["source"] == bucket, amount, 0)
            total = np.cumsum(delta)
            balances.append(total - total[run_start] + delta[run_start])
        key = (loan << DAY_BITS) | (events["day"] - DAY_BASE)
        return cls(key, *balances)

    def before(self, loan: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Balances of each loan at the start of `day` (after every earlier day's movements)."""
        position = np.searchsorted(self.key, (loan << DAY_BITS) | (day - DAY_BASE), side="left") - 1
        valid = position >= 0
        valid[valid] = (self.key[position[valid]] >> DAY_BITS) == loan[valid]
        position = np.maximum(position, 0)
        return tuple(np.where(valid, b[position], 0) for b in (self.current, self.overdue, self.frozen))

    def end_of(self, loan: np.ndarray, day: int):
        return self.before(loan, np.full(len(loan), day + 1, dtype=np.int64))


def opening_rows(loans: pd.DataFrame, balances: Balances, start_day: int) -> dict[str, np.ndarray]:
    """Loans disbursed before the ledger starts enter it on its first day: the principal they owe
    (to current, as the contract says), then what of it was overdue or frozen moves there."""
    before = np.flatnonzero(loans.disbursement_day.to_numpy() < start_day)
    current, overdue, frozen = balances.before(before, np.full(len(before), start_day, dtype=np.int64))
    total = current + overdue + frozen
    owing = total > 0
    rows, current, overdue, frozen, total = before[owing], current[owing], overdue[owing], frozen[owing], total[owing]
    day = np.full(len(rows), start_day, dtype=np.int64)
    frozen_until = on_day(loans.freeze_month.to_numpy()[rows] + loans.frozen_months.to_numpy()[rows],
                          loans.transaction_day.to_numpy()[rows])
    parts = [
        _rows(rows, day, "opening", "opening_balance", total, target=CURRENT),
        _rows(rows[overdue > 0], day[overdue > 0], "transfer", "transfer_to_overdue", overdue[overdue > 0], source=CURRENT, target=OVERDUE),
        _rows(rows[frozen > 0], day[frozen > 0], "freeze_current", "freeze", frozen[frozen > 0], source=CURRENT, target=FROZEN,
              cause=loans.cause.to_numpy()[rows][frozen > 0], frozen_until=frozen_until[frozen > 0]),
    ]
    return _concat(parts)


@dataclass
class InterestSchedule:
    """What the monthly interest rows need for the loans in the extract."""

    loans: np.ndarray  # loan indices
    first_month: np.ndarray  # the month after disbursement
    last_month: np.ndarray  # the month the loan stops owing current or overdue principal
    transaction_day: np.ndarray
    rate: np.ndarray
    overdue_rate: np.ndarray
    arrears_from: np.ndarray  # day after which no interest is collected (chronic arrears, borrower gone)

    @classmethod
    def of(cls, loans: pd.DataFrame, events: dict[str, np.ndarray], balances: Balances, included: np.ndarray) -> "InterestSchedule":
        # The last day a loan's current + overdue principal comes back to zero.
        zero = (balances.current + balances.overdue) == 0
        last_day = np.zeros(len(loans), dtype=np.int64)
        np.maximum.at(last_day, events["loan"][zero], events["day"][zero])
        fate = loans.fate.to_numpy()
        first_due = loans.month.to_numpy() + loans.grace.to_numpy() + loans.trouble_no.to_numpy() * loans.interval.to_numpy()
        tday = loans.transaction_day.to_numpy()
        arrears = np.where(fate == CHRONIC, on_day(first_due, tday),
                           np.where(fate == LEFT, on_day(loans.left_month.to_numpy(), tday), np.iinfo(np.int32).max))
        i = included
        return cls(i, loans.month.to_numpy()[i] + 1, month_of(last_day[i]), tday[i], loans.rate.to_numpy()[i],
                   loans.overdue_rate.to_numpy()[i], arrears[i])

    def rows(self, month: int, balances: Balances) -> dict[str, np.ndarray]:
        live = (self.first_month <= month) & (self.last_month >= month)
        loan = self.loans[live]
        day = on_day(np.full(len(loan), month), self.transaction_day[live])
        current, overdue, _ = balances.before(loan, day)
        interest = np.round((current * self.rate[live] + overdue * self.overdue_rate[live]) / 1200).astype(np.int64)
        keep = (interest > 0) & (day <= self.arrears_from[live])
        return _rows(loan[keep], day[keep], "interest", "interest_payment", np.zeros(int(keep.sum()), dtype=np.int64),
                     interest=interest[keep])


def select_days(events: dict[str, np.ndarray], first_day: int, last_day: int) -> dict[str, np.ndarray]:
    keep = (events["day"] >= first_day) & (events["day"] <= last_day)
    return {c: v[keep] for c, v in events.items()}


def by_day(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.lexsort((events["order"], events["loan"], events["day"]))
    return {c: v[order] for c, v in events.items()}
