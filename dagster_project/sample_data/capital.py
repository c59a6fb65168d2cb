"""Lending capital by source and date: central allocations (plan A) following the outstanding,
local budget capital entrusted by the province and some communes (plan B), and capital mobilised
from group savings.

The local budget capital follows the reference province's published path (over 111 bn VND at
mid-2024, 280 times its 2014 level), in proportion to the selection's expected borrowers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.contract import REORGANISATION_DATE
from dagster_project.sample_data import config as C
from dagster_project.sample_data.dates import day
from dagster_project.sample_data.geography import Province

FIRST_CAPITAL_YEAR = 2003
LOCAL_ANCHORS = ("2014-09-15", "2024-06-20")  # the last local entries on or before end-2014 and mid-2024
LOCAL_GROWTH_AFTER = 1.15  # a year, after mid-2024
LOCAL_ENTRY_DATES = ("03-15", "06-20", "09-15")  # province; province and communes; province
COMMUNE_SHARE_OF_LOCAL = 0.15  # communes entrust a small part of the local budget capital
COMMUNES_ENTRUSTING_SHARE = 0.08  # communes adding capital in a year
CENTRAL_BUFFER = 0.002  # capital slightly above outstanding
SAVINGS_WITHDRAWN_SHARE = 0.25  # of a year's deposits, withdrawn at year end
REFERENCE_ACTIVE = 80_052


def local_balance(days: np.ndarray, share: float) -> np.ndarray:
    """Cumulative local capital at each day: log-linear through the published anchors."""
    d0, d1 = (day(a) for a in LOCAL_ANCHORS)
    b1 = C.LOCAL_CAPITAL_MID_2024 * share
    rate = np.log(C.LOCAL_CAPITAL_MULTIPLE_2014_2024) / (d1 - d0)
    after = np.log(LOCAL_GROWTH_AFTER) / 365.2425
    days = np.asarray(days, dtype=np.float64)
    return b1 * np.exp(np.where(days <= d1, (days - d1) * rate, (days - d1) * after))


def capital_entries(rng: np.random.Generator, config: C.GenerationConfig, province: Province, outstanding_at,
                    savings_by_month: dict[int, int]) -> pd.DataFrame:
    """`outstanding_at(days)` gives the province's outstanding principal at the end of each day."""
    reform = day(REORGANISATION_DATE)
    end = day(config.end_date)
    share = province.communes.expected_active.sum() / REFERENCE_ACTIVE  # of the reference province's borrowers
    rows = []

    # Local budget: entries whose running total follows the path, rounded to thousands of VND.
    dates, units = [], []
    for year in range(2010, config.end_year + 1):  # three entries a year
        for i, md in enumerate(LOCAL_ENTRY_DATES):
            dates.append(day(f"{year}-{md}"))
            units.append("commune" if i == 1 else "province")
    dates = np.array(dates)
    cumulative = np.round(local_balance(dates, share) / 1000).astype(np.int64) * 1000
    amounts = np.diff(np.r_[0, cumulative])
    codes = province.communes.commune_code.to_numpy()
    new_codes = province.communes.default_new_commune_code.to_numpy()
    for d, unit, amount in zip(dates, units, amounts):
        if d > end or amount <= 0:
            continue
        from_communes = int(amount * COMMUNE_SHARE_OF_LOCAL * 3) // 1000 * 1000 if unit == "commune" else 0
        if amount - from_communes > 0:
            rows.append((d, "local", "province", None, amount - from_communes, "in"))
        if from_communes <= 0:
            continue
        chosen = np.flatnonzero(rng.random(len(codes)) < COMMUNES_ENTRUSTING_SHARE)
        if not len(chosen):
            chosen = rng.integers(0, len(codes), 1)
        split = rng.dirichlet(np.ones(len(chosen))) * from_communes
        parts = np.floor(split / 1000).astype(np.int64) * 1000
        parts[0] += from_communes - parts.sum()
        for c, part in zip(chosen, parts):
            if part > 0:
                rows.append((d, "local", "commune", new_codes[c] if d >= reform else codes[c], int(part), "in"))

    # Mobilised: the month's group savings, less withdrawals at each year end.
    mobilised = {}
    for m, total in sorted(savings_by_month.items()):
        d = day(np.datetime64(m, "M").astype("datetime64[D]")) + 27
        rows.append((d, "mobilised", None, None, int(total), "in"))
        year = m // 12 + 1970
        mobilised[year] = mobilised.get(year, 0) + int(total)
    for year, total in mobilised.items():
        withdrawn = int(round(total * SAVINGS_WITHDRAWN_SHARE / 1000) * 1000)
        if withdrawn and day(f"{year}-12-20") <= end:
            rows.append((day(f"{year}-12-20"), "mobilised", None, None, withdrawn, "out"))

    # Central: quarterly allocations that keep total capital just above the outstanding.
    frame = pd.DataFrame(rows, columns=["day", "source", "entrusting_unit", "commune_code", "amount", "direction"])
    signed = frame.amount * np.where(frame.direction == "in", 1, -1)
    quarters = np.array([day(f"{y}-{m:02d}-10") for y in range(FIRST_CAPITAL_YEAR, config.end_year + 1) for m in (1, 4, 7, 10)])
    quarters = quarters[quarters <= end]
    order = np.argsort(frame.day.to_numpy(), kind="stable")
    other_days = frame.day.to_numpy()[order]
    other_total = np.cumsum(signed.to_numpy()[order])
    position = np.searchsorted(other_days, quarters, side="right") - 1
    others = np.where(position >= 0, other_total[np.maximum(position, 0)], 0)
    # Capital for the next quarter's lending: outstanding at the end of the quarter.
    target = np.maximum(0, np.round(outstanding_at(np.r_[quarters[1:], end]) * (1 + CENTRAL_BUFFER)) - others)
    central = np.diff(np.r_[0, np.round(target / 1_000_000).astype(np.int64) * 1_000_000])
    rows = [(d, "central", None, None, abs(int(a)), "in" if a >= 0 else "out") for d, a in zip(quarters, central) if a != 0]
    frame = pd.concat([frame, pd.DataFrame(rows, columns=frame.columns)], ignore_index=True)
    return frame.sort_values(["day", "source", "entrusting_unit", "commune_code"], kind="stable", ignore_index=True)
