"""What becomes of each loan: repaid on schedule (most), repaid early, an instalment extended, an
instalment paid late from overdue, chronic arrears ending in repayment, freeze or write-off, a
freeze after a natural disaster (K1), or a freeze after the borrower left (K4c).

The shares are tuned so that overdue + frozen debt stays a small share of outstanding (0.3-0.8 %,
national 0.55 % in 2025).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.sample_data.catalogue import K, P, RISK_CAUSES
from dagster_project.sample_data.dates import month

NORMAL, EARLY, EXTEND, LATE, CHRONIC, DISASTER, LEFT = range(7)
FATE_SHARES = {EARLY: 0.04, EXTEND: 0.025, LATE: 0.015, CHRONIC: 0.0025}  # the rest: NORMAL
LEFT_SHARE = 0.008  # households that leave their residence during a loan (K4c follow-up)
MONTHS_BEFORE_K4C = 24  # left for 2 years or more with no reliable information
EXTENSION_MONTHS = {6: 0.3, 12: 0.5, 24: 0.2}
LATE_MONTHS = (1, 12)  # an overdue instalment is paid 1-12 months late
CHRONIC_MONTHS = (6, 36)  # arrears run 6-36 months before they are resolved
CHRONIC_OUTCOMES = {"repay": 0.45, "freeze": 0.45, "write_off": 0.10}
CHRONIC_CAUSES = {"K4a": 0.30, "K4b": 0.25, "K3": 0.15, "K1": 0.10, "K2": 0.05, "K5": 0.15}
FREEZE_MONTHS = 36  # K1: 3 years for a loss of 40-79 %, 5 years for 80-100 %
SEVERE_DISASTER_SHARE = 0.3
# Frozen debt at the end of the freeze is written off for these shares (else the household repays it).
WRITE_OFF_SHARE = {"K1": 0.5, "K2": 0.4, "K3": 0.4, "K4a": 0.9, "K4b": 0.5, "K4c": 0.9, "K5": 0.8}
DISASTER_RATE = 0.03  # floods and landslides: a commune-year's chance of one
DISASTER_HIT_SHARE = 0.02  # of the commune's active loans frozen after it
# Typhoon Yagi (September 2024) hit the northern provinces.
YAGI_MONTH, YAGI_COMMUNE_SHARE, YAGI_HIT_SHARE = month("2024-09-01"), 0.3, 0.04
NORTHERN_PROVINCES_UP_TO = "38"


def apply_leavers(rng: np.random.Generator, loans: pd.DataFrame, households: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Some households leave during one of their loans: they take no loan afterwards and their
    loans running at that time go overdue, then frozen (K4c). Returns the loans and each
    household's leaving month (-1 if it stays)."""
    leaves = np.flatnonzero(rng.random(households) < LEFT_SHARE)
    left_month = np.full(households, -1, dtype=np.int64)
    h = loans.household.to_numpy()
    candidates = np.flatnonzero(np.isin(h, leaves))
    if len(candidates):
        # One loan per leaving household, at random; it leaves during that loan's life.
        order = candidates[np.argsort(rng.random(len(candidates)), kind="stable")]
        _, first = np.unique(h[order], return_index=True)
        chosen = order[first]
        life = (loans.due_month.to_numpy() - loans.month.to_numpy())[chosen]
        left_month[h[chosen]] = loans.month.to_numpy()[chosen] + 1 + (rng.random(len(chosen)) * np.maximum(life - 1, 1)).astype(np.int64)
    leaving = left_month[h]
    keep = (leaving < 0) | (loans.month.to_numpy() < leaving)
    loans = loans[keep].reset_index(drop=True)
    leaving = left_month[loans.household.to_numpy()]
    running = (leaving >= 0) & (loans.due_month.to_numpy() > leaving)
    return loans.assign(left_month=np.where(running, leaving, -1)), left_month


def assign_fates(rng: np.random.Generator, loans: pd.DataFrame, province_code: str, commune_count: int,
                 first_year: int, last_year: int) -> pd.DataFrame:
    n = len(loans)
    count = loans.instalments.to_numpy()
    beyond = ~loans.main.astype(bool).to_numpy() | loans.last_main.to_numpy()  # nothing waits for this loan's end
    fate = np.full(n, NORMAL)
    u = rng.random(n)
    edge = 0.0
    for kind, share in FATE_SHARES.items():
        fate[(u >= edge) & (u < edge + share)] = kind
        edge += share
    fate[(fate == EARLY) & (count < 2)] = NORMAL
    # The troubled instalment: any; but one that would delay the household's next loan stays before the last.
    last_allowed = np.where(beyond | (fate == CHRONIC), count, np.maximum(count - 1, 1))
    last_allowed = np.where(fate == EARLY, count - 1, last_allowed)
    k = 1 + (rng.random(n) * last_allowed).astype(np.int64)
    fate[(fate == EXTEND) & (k == count) & ~beyond] = NORMAL
    delay = np.zeros(n, dtype=np.int64)
    months, shares = zip(*EXTENSION_MONTHS.items())
    delay = np.where(fate == EXTEND, np.asarray(months)[rng.choice(len(months), n, p=shares)], delay)
    delay = np.where(fate == LATE, rng.integers(LATE_MONTHS[0], LATE_MONTHS[1] + 1, n), delay)
    delay = np.where(fate == CHRONIC, rng.integers(CHRONIC_MONTHS[0], CHRONIC_MONTHS[1] + 1, n), delay)
    # Before the next main loan: a late or extended instalment is settled by the contract due date.
    due_k = loans.month.to_numpy() + loans.grace.to_numpy() + k * loans.interval.to_numpy()
    room = loans.due_month.to_numpy() - due_k
    bounded = np.isin(fate, [EXTEND, LATE]) & ~beyond
    delay = np.where(bounded, np.clip(np.minimum(delay, room), 1, None), delay)

    outcome = np.array(list(CHRONIC_OUTCOMES))[rng.choice(len(CHRONIC_OUTCOMES), n, p=list(CHRONIC_OUTCOMES.values()))]
    cause = np.array([K[c] for c in CHRONIC_CAUSES])[rng.choice(len(CHRONIC_CAUSES), n, p=list(CHRONIC_CAUSES.values()))]
    cause = np.where((loans.program.to_numpy() == P["04"]) & (rng.random(n) < 0.7), K["K3"], cause)  # sent home early
    cause = np.where(outcome == "write_off", K["K4a"], cause)
    freeze_month = np.full(n, -1, dtype=np.int64)
    freeze_month = np.where(fate == CHRONIC, due_k + delay, freeze_month)

    # Borrowers who left: freeze after two years without news.
    left = loans.left_month.to_numpy() >= 0
    fate[left] = LEFT
    freeze_month = np.where(left, loans.left_month.to_numpy() + MONTHS_BEFORE_K4C, freeze_month)
    cause = np.where(left, K["K4c"], cause)
    outcome = np.where(left, "freeze", outcome)

    # Natural disasters: a commune-wide event freezes some of its running loans.
    disasters = _disasters(rng, province_code, commune_count, first_year, last_year)
    commune = loans.commune.to_numpy()
    by_commune = np.argsort(commune, kind="stable")
    bounds = np.searchsorted(commune[by_commune], np.arange(commune_count + 1))
    for c, when, hit in disasters:  # a few events a year
        rows = by_commune[bounds[c]:bounds[c + 1]]
        rows = rows[(fate[rows] <= LATE) & (loans.month.to_numpy()[rows] < when) & (loans.due_month.to_numpy()[rows] > when)]
        rows = rows[rng.random(len(rows)) < hit]
        fate[rows] = DISASTER
        freeze_month[rows] = when + rng.integers(1, 4, len(rows))  # the damage is assessed, then the debt frozen
        cause[rows] = K["K1"]
        outcome[rows] = "freeze"
    frozen_months = np.where((cause == K["K1"]) & (rng.random(n) < SEVERE_DISASTER_SHARE), 60, FREEZE_MONTHS)
    written = rng.random(n) < np.array([WRITE_OFF_SHARE[c] for c in RISK_CAUSES])[cause]
    return loans.assign(fate=fate, trouble_no=k, delay=delay, outcome=outcome, cause=cause, freeze_month=freeze_month,
                        frozen_months=frozen_months, written_off=written)


def _disasters(rng, province_code: str, commune_count: int, first_year: int, last_year: int) -> list[tuple[int, int, float]]:
    years = np.arange(first_year, last_year + 1)
    hit = rng.random((commune_count, len(years))) < DISASTER_RATE
    commune, year = np.nonzero(hit)
    when = (years[year] - 1970) * 12 + rng.integers(4, 10, len(year))  # the rainy season
    events = [(int(c), int(w), DISASTER_HIT_SHARE) for c, w in zip(commune, when)]
    if province_code <= NORTHERN_PROVINCES_UP_TO and first_year * 12 <= YAGI_MONTH + 1970 * 12 <= last_year * 12 + 11:
        struck = np.flatnonzero(rng.random(commune_count) < YAGI_COMMUNE_SHARE)
        events += [(int(c), YAGI_MONTH, YAGI_HIT_SHARE) for c in struck]
    return events


def last_event_month(loans: pd.DataFrame) -> np.ndarray:
    """The latest month a loan can still have a principal movement (to skip loans long closed)."""
    resolved = loans.freeze_month.to_numpy() + loans.frozen_months.to_numpy()
    return np.where(loans.freeze_month.to_numpy() >= 0, np.maximum(resolved, loans.due_month.to_numpy()),
                    loans.due_month.to_numpy() + 24)
