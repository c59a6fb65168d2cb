"""Group savings: on each transaction day the group leader collects members' small deposits
(at least 5,000 VND each) and remits them at the commune's transaction point."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.sample_data.dates import interpolate_by_year, on_day

MINIMUM_DEPOSIT = 5_000
DEPOSIT_PER_MEMBER = {2003: 5_000, 2010: 10_000, 2014: 15_000, 2020: 25_000, 2025: 35_000, 2031: 45_000}
DEPOSITING_SHARE = {2003: 0.55, 2014: 0.7, 2025: 0.88}  # members saving each month, rising


def savings_rows(rng: np.random.Generator, groups: pd.DataFrame, month: int) -> dict[str, np.ndarray]:
    """One deposit per group established by the month's transaction day."""
    day = on_day(np.full(len(groups), month), groups.transaction_day.to_numpy())
    live = np.flatnonzero(groups.established_day.to_numpy() <= day)
    day = day[live]
    members = groups.member_count.to_numpy()[live]
    share = interpolate_by_year(day, DEPOSITING_SHARE)
    depositing = np.clip(rng.binomial(members, share), 1, members)
    per_member = interpolate_by_year(day, DEPOSIT_PER_MEMBER) * rng.uniform(0.7, 1.5, len(live))
    amount = depositing * np.maximum(MINIMUM_DEPOSIT, np.round(per_member / 1000) * 1000).astype(np.int64)
    return {"group": live, "day": day, "members": depositing, "amount": amount}
