"""Borrowing households, their poverty trajectory and their Savings and Loan Groups.

A household borrows during a *spell*: from its first loan it takes one main loan after another
(poor-household loans while poor, near-poor loans after, then just-out-of-poverty loans, then
production loans), plus side loans (clean water, housing, students …). Spells start at a steady
rate in each commune, so the number of borrowers with outstanding loans stays near the commune's
expected level while loan sizes grow with the caps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.sample_data import config as C
from dagster_project.sample_data.catalogue import ORGANISATIONS
from dagster_project.sample_data.dates import interpolate_by_year, month_of_year, on_day
from dagster_project.sample_data.geography import Province

POOR, NEAR_POOR, JUST_OUT, OTHER = 0, 1, 2, 3
CATEGORIES = np.array(["poor", "near_poor", "just_out_of_poverty", "other"], dtype=object)
# Category of a household when its spell starts, by year (poverty fell: 27.8 % -> 6.6 % of households
# in Tuyên Quang; policy borrowers are mostly the poor and near-poor).
POOR_SHARE_AT_START = {1996: 0.60, 2005: 0.55, 2010: 0.48, 2015: 0.40, 2020: 0.32, 2025: 0.26}
NEAR_POOR_SHARE_AT_START = 0.20
JUST_OUT_SHARE_AT_START = 0.10
JUST_OUT_YEARS = 3  # a household counts as just out of poverty for 3 years
FIRST_JUST_OUT_LIST = 2015  # lists of households just out of poverty exist since Decision 28/2015
MAIN_LOANS = {1: 0.30, 2: 0.30, 3: 0.22, 4: 0.12, 5: 0.06}  # main loans in a spell
SPELL_HISTORY_YEARS = 18  # spells that can still owe at the ledger's start begin at most this long before it
FIRST_SPELL_YEAR = 2000  # seeds/program_terms.csv starts in 2000
ORGANISATION_SHARES = {"HPN": 0.38, "HND": 0.36, "HCCB": 0.16, "DTN": 0.10}  # groups by organisation
GROUP_SIZE_SPREAD = (0.5, 1.5)  # relative size of a commune's groups
FIRST_GROUP_DAY = "2003-03-01"


@dataclass
class Households:
    commune: np.ndarray  # commune index
    village: np.ndarray  # village index (province-wide)
    group: np.ndarray  # group index, -1 for a household served directly by the bank
    start_month: np.ndarray  # month of its first loan
    status_at_start: np.ndarray  # POOR … OTHER
    poor_years: np.ndarray  # list years in each status from the list before the first loan
    near_poor_years: np.ndarray
    just_out_years: np.ndarray
    main_loans: np.ndarray

    def __len__(self) -> int:
        return len(self.commune)

    def status(self, list_year: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Status on the certified list of `list_year` (which serves lending in `list_year` + 1)."""
        first_list = (self.start_month[rows] // 12 + 1970) - 1
        offset = list_year - first_list
        poor, near = self.poor_years[rows], self.near_poor_years[rows]
        just = self.just_out_years[rows]
        status = np.where(offset < poor, POOR, np.where(offset < poor + near, NEAR_POOR,
                          np.where(offset < poor + near + just, JUST_OUT, OTHER)))
        status = np.where((status == JUST_OUT) & (list_year < FIRST_JUST_OUT_LIST), OTHER, status)
        return np.where(offset < 0, OTHER, status)


def first_spell_year(config: C.GenerationConfig) -> int:
    return max(FIRST_SPELL_YEAR, config.start_year - SPELL_HISTORY_YEARS)


def build_groups(rng: np.random.Generator, province: Province) -> pd.DataFrame:
    """Each commune's groups, spread over its villages (one village a group), with an organisation."""
    communes, villages = province.communes, province.villages
    count = communes.groups.to_numpy()
    commune = np.repeat(np.arange(len(communes)), count)
    number = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    village_count = communes.villages.to_numpy()[commune]
    village_offset = np.r_[0, np.cumsum(communes.villages.to_numpy())[:-1]][commune]
    # The first groups take one village each; the rest go to random villages of the commune.
    village_no = np.where(number < village_count, number, rng.integers(0, np.maximum(village_count, 1)))
    organisation = rng.choice(len(ORGANISATIONS), len(commune), p=list(ORGANISATION_SHARES.values()))
    established = np.maximum(communes.opened_day.to_numpy()[commune],
                             on_day(month_of_year(2003, 3) + rng.integers(0, 10 * 12, len(commune)),
                                    communes.transaction_day.to_numpy()[commune]))
    return pd.DataFrame({
        "commune": commune,
        "village": village_offset + village_no,
        "organisation": organisation,
        "weight": rng.uniform(*GROUP_SIZE_SPREAD, len(commune)),
        "established_day": established,
    })


def build_households(rng: np.random.Generator, config: C.GenerationConfig, province: Province, groups: pd.DataFrame) -> Households:
    communes = province.communes
    first_year = first_spell_year(config)
    years = config.end_year - first_year + 1
    per_commune = rng.poisson(communes.expected_active.to_numpy() * C.SPELL_ARRIVALS_PER_ACTIVE * years)
    commune = np.repeat(np.arange(len(communes)), per_commune)
    n = len(commune)
    # Households are numbered in order of arrival within each commune.
    start_month = month_of_year(first_year) + rng.integers(0, years * 12, n)
    start_month = start_month[np.lexsort((start_month, commune))]

    # Group: drawn within the commune in proportion to the groups' sizes; a few households borrow directly.
    weight = groups.weight.to_numpy()
    cumulative = np.cumsum(weight)
    group_start = np.searchsorted(groups.commune.to_numpy(), np.arange(len(communes)), side="left")
    group_stop = np.searchsorted(groups.commune.to_numpy(), np.arange(len(communes)), side="right")
    low = np.r_[0.0, cumulative][group_start][commune]
    high = np.r_[0.0, cumulative][group_stop][commune]
    group = np.searchsorted(cumulative, low + rng.random(n) * (high - low), side="right")
    group = np.minimum(group, group_stop[commune] - 1)
    direct = rng.random(n) < C.DIRECT_HOUSEHOLD_SHARE
    village_offset = np.r_[0, np.cumsum(communes.villages.to_numpy())[:-1]]
    own_village = village_offset[commune] + (rng.random(n) * communes.villages.to_numpy()[commune]).astype(np.int64)
    village = np.where(direct, own_village, groups.village.to_numpy()[group])
    group = np.where(direct, -1, group)

    # Poverty trajectory: the category at the first loan, then years in each category.
    start_year = start_month // 12 + 1970
    poor_share = interpolate_by_year((start_year - 1970) * 365.2425, POOR_SHARE_AT_START)
    u = rng.random(n)
    status = np.where(u < poor_share, POOR, np.where(u < poor_share + NEAR_POOR_SHARE_AT_START, NEAR_POOR,
                      np.where(u < poor_share + NEAR_POOR_SHARE_AT_START + JUST_OUT_SHARE_AT_START, JUST_OUT, OTHER)))
    poor_years = np.where(status == POOR, rng.geometric(0.3, n), 0)
    near_poor_years = np.where(status == NEAR_POOR, rng.geometric(0.4, n),
                               np.where((status == POOR) & (rng.random(n) < 0.55), rng.geometric(0.5, n), 0))
    just_out_years = np.where(status == JUST_OUT, rng.integers(1, JUST_OUT_YEARS + 1, n),
                              np.where(status == OTHER, 0, JUST_OUT_YEARS))
    loans, shares = zip(*MAIN_LOANS.items())
    main_loans = np.asarray(loans)[rng.choice(len(loans), n, p=shares)]
    return Households(commune, village, group, start_month, status, poor_years, near_poor_years, just_out_years, main_loans)
