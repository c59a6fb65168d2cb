"""Planning registers: the certified lists of poor, near-poor and just-out-of-poverty households,
and each new commune's loan-demand survey for the 2026-2030 credit plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.sample_data.catalogue import P, PROGRAMS, program_terms
from dagster_project.sample_data.dates import day, year_of
from dagster_project.sample_data.households import CATEGORIES, OTHER, Households

ELIGIBILITY_EXCEPTION_SHARE = 0.005  # poor-household loans whose borrower is missing from that year's list
REFORM_LIST_YEAR = 2025  # lists certified on 31 Dec 2025 and later carry the new communes
SURVEY_DATE = "2025-11-15"  # 2025 Q4, on the new communes
PLAN_YEARS = np.arange(2026, 2031)
SURVEY_BASE_YEARS = 3  # demand is projected from the last three years' lending
HOUSEHOLD_GROWTH, AMOUNT_GROWTH = 1.03, 1.07  # a year: ~10.7 % growth of demand (domain.md §4 example)
# Beneficiaries per borrowing household, in each program's own unit (students, jobs, water works, houses …).
BENEFICIARIES_PER_HOUSEHOLD = {"02": 1.1, "03": 1.6, "06": 1.55}


def certified_lists(rng: np.random.Generator, households: Households, left_month: np.ndarray, first_year: int,
                    last_year: int, old_codes: np.ndarray, new_codes: np.ndarray, household_ids: np.ndarray,
                    poor_loans: pd.DataFrame) -> pd.DataFrame:
    """One row per household and list year it is certified poor / near-poor / just out of poverty.
    `poor_loans` (household, year) are poor-household loans: a few of their lists miss the household."""
    years = np.arange(first_year, last_year + 1)
    household = np.repeat(np.arange(len(households)), len(years))
    year = np.tile(years, len(households))
    status = households.status(year, household)
    gone = (left_month[household] >= 0) & (year > left_month[household] // 12 + 1970)  # left the commune
    keep = (status != OTHER) & ~gone
    household, year, status = household[keep], year[keep], status[keep]
    exceptions = poor_loans[rng.random(len(poor_loans)) < ELIGIBILITY_EXCEPTION_SHARE]
    missing = np.isin(household.astype(np.int64) * 10_000 + year,
                      exceptions.household.to_numpy(np.int64) * 10_000 + exceptions.year.to_numpy() - 1)
    household, year, status = household[~missing], year[~missing], status[~missing]
    return pd.DataFrame({
        "certification_year": year,
        "household_id": household_ids[household],
        "commune_code": np.where(year >= REFORM_LIST_YEAR, new_codes[household], old_codes[household]),
        "category": CATEGORIES[status],
    })


def demand_survey(rng: np.random.Generator, loans: pd.DataFrame, new_codes: np.ndarray, last_year: int) -> pd.DataFrame:
    """Per new commune and program: households needing a loan, the amount and the program's own count.
    `new_codes` gives each loan's new commune."""
    recent = year_of(loans.disbursement_day.to_numpy()) > last_year - SURVEY_BASE_YEARS
    base = pd.DataFrame({"commune_code": new_codes[recent], "program": loans.program.to_numpy()[recent],
                         "amount": loans.amount.to_numpy()[recent]})
    base = base.groupby(["commune_code", "program"], as_index=False).agg(loans=("amount", "size"), amount=("amount", "mean"))
    frame = base.merge(pd.DataFrame({"plan_year": PLAN_YEARS}), how="cross")
    growth = frame.plan_year.to_numpy() - 2025
    households = frame.loans.to_numpy() / SURVEY_BASE_YEARS * HOUSEHOLD_GROWTH ** growth * rng.uniform(0.85, 1.15, len(frame))
    households = np.maximum(1, np.round(households)).astype(np.int64)
    terms = program_terms()
    caps = pd.Series(terms.cap, index=terms.program).groupby(level=0).max()
    per_household = np.minimum(frame.amount.to_numpy() * AMOUNT_GROWTH ** growth, caps.reindex(frame.program).to_numpy())
    code = np.asarray(PROGRAMS, dtype=object)[frame.program.to_numpy()]
    ratio = pd.Series(code).map(BENEFICIARIES_PER_HOUSEHOLD).fillna(1.0).to_numpy()
    return pd.DataFrame({
        "survey_date": day(SURVEY_DATE),
        "commune_code": frame.commune_code.to_numpy(),
        "program_code": code,
        "plan_year": frame.plan_year.to_numpy(),
        "households": households,
        "demand_amount": households * (np.round(per_household / 1e6).astype(np.int64) * 1_000_000),
        "beneficiary_count": np.maximum(1, np.round(households * ratio)).astype(np.int64),
    })


def poor_loan_years(loans: pd.DataFrame, first_day: int, last_day: int) -> pd.DataFrame:
    rows = (loans.program.to_numpy() == P["01"]) & (loans.disbursement_day.to_numpy() >= first_day) & (
        loans.disbursement_day.to_numpy() <= last_day)
    return pd.DataFrame({"household": loans.household.to_numpy()[rows], "year": year_of(loans.disbursement_day.to_numpy()[rows])})
