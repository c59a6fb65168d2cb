"""Registers around the loans: group savings, capital sources, certified household lists, and the
communes' loan-demand surveys for 2026-2030."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.domain.landing_contract import REORGANISATION_DATE
from sample_data.config import GenerationConfig
from sample_data.geography import Geography
from sample_data.loans import month_day, program_terms
from sample_data.text import code

REFORM = np.datetime64(REORGANISATION_DATE)
REFERENCE_COMMUNES = 137  # old Tuyên Quang: its local budget figures scale with the communes generated
LOCAL_CAPITAL_MID_2024 = 111_000_000_000  # docs/domain.md §6: over 111 bn VND, 280 times its 2014 level
LOCAL_CAPITAL_GROWTH_10Y = 280


def era_codes(dates: np.ndarray, old_codes: np.ndarray, new_codes: np.ndarray) -> np.ndarray:
    """A row's commune code in the era of its date."""
    return np.where(dates < REFORM, old_codes, new_codes)


def savings_deposits(config: GenerationConfig, geography: Geography, groups: pd.DataFrame, rng) -> pd.DataFrame:
    months = np.arange((config.start_year - 1970) * 12, (config.end_year - 1970) * 12 + 12)
    group = np.repeat(np.arange(len(groups)), len(months))
    month = np.tile(months, len(groups))
    communes = geography.communes.set_index("commune_code")
    day = communes.transaction_day.reindex(groups.commune_code).to_numpy()[group]
    date = month_day(month.astype("datetime64[M]"), day)
    members = np.maximum(1, rng.binomial(groups.member_count.to_numpy()[group], 0.75))
    frame = pd.DataFrame(
        {
            "deposit_date": date,
            "group_id": groups.group_id.to_numpy()[group],
            "depositing_members": members,
            "amount": members * 5_000 * rng.integers(1, 7, len(group)),
            "commune_code": era_codes(
                date, groups.commune_code.to_numpy()[group], groups.new_commune_code.to_numpy()[group]
            ),
            "transaction_point_id": groups.transaction_point_id.to_numpy()[group],
        }
    ).sort_values(["deposit_date", "group_id"], ignore_index=True)
    frame.insert(0, "deposit_id", code("TK" + config.id_prefix, np.arange(1, len(frame) + 1), 10))
    return frame


def capital_sources(
    config: GenerationConfig, geography: Geography, outstanding_by_year: pd.Series, rng
) -> pd.DataFrame:
    """Yearly capital received: local budget growing 280-fold in ten years (in mid-year entries, so
    the mid-2024 balance is the published one), central capital covering the rest of the growth,
    and a little mobilised capital."""
    share = len(geography.communes) / REFERENCE_COMMUNES
    years = np.arange(config.start_year, config.end_year + 1)
    local_balance = LOCAL_CAPITAL_MID_2024 * share * LOCAL_CAPITAL_GROWTH_10Y ** ((years - 2024) / 10)
    local_in = np.round(np.diff(np.r_[0, local_balance]) / 1e6) * 1e6
    rows = []
    codes = geography.communes.commune_code.to_numpy()
    for year, amount in zip(years, local_in):  # a few rows a year
        from_communes = np.round(amount * 0.3 / 1e6) * 1e6 if len(codes) > 1 else 0
        rows.append((f"{year}-06-15", "local", "province", None, amount - from_communes))
        if from_communes:
            commune = rng.choice(codes)
            rows.append((f"{year}-06-20", "local", "commune", commune, from_communes))
        target = outstanding_by_year.get(year, 0)
        previous = outstanding_by_year.get(year - 1, 0)
        rows.append(
            (f"{year}-01-10", "central", None, None, max(0, (target - previous) if year > years[0] else target) * 0.97)
        )
        rows.append(
            (
                f"{year}-12-20",
                "mobilised",
                None,
                None,
                max(0, target - previous) * 0.02 if year > years[0] else target * 0.01,
            )
        )
    frame = pd.DataFrame(rows, columns=["effective_date", "source", "entrusting_unit", "commune_code", "amount"])
    frame["effective_date"] = pd.to_datetime(frame.effective_date).to_numpy().astype("datetime64[D]")
    frame["amount"] = np.round(frame.amount.astype(float)).astype(np.int64)
    frame["direction"] = "in"
    frame = frame.sort_values(["effective_date", "source"], ignore_index=True)
    frame.insert(0, "capital_entry_id", code("NV" + config.id_prefix, np.arange(1, len(frame) + 1), 6))
    return frame


def certified_households(config: GenerationConfig, borrowers: pd.DataFrame, rng) -> pd.DataFrame:
    """Each year's certified lists: the households of the three categories, less a few the commune
    did not certify that year (whose loans then show as eligibility exceptions)."""
    eligible = borrowers[borrowers.category != "other"]
    years = np.arange(config.start_year - 1, config.end_year + 1)
    household = np.tile(np.arange(len(eligible)), len(years))
    year = np.repeat(years, len(eligible))
    keep = rng.random(len(household)) > 0.005
    household, year = household[keep], year[keep]
    year_end = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 364
    return pd.DataFrame(
        {
            "certification_year": year,
            "household_id": eligible.household_id.to_numpy()[household],
            "commune_code": era_codes(
                year_end,
                eligible.old_commune_code.to_numpy()[household],
                eligible.new_commune_code.to_numpy()[household],
            ),
            "category": eligible.category.to_numpy()[household],
        }
    )


def demand_survey(loans: pd.DataFrame, borrowers: pd.DataFrame, rng) -> pd.DataFrame:
    """Demand per new commune and program for 2026-2030: about the recent disbursements, growing."""
    recent = loans[loans.disbursement_date >= np.datetime64("2023-01-01")]
    commune = borrowers.new_commune_code.to_numpy()[recent.borrower_index]
    per_year = (
        recent.assign(new_commune_code=commune)
        .groupby(["new_commune_code", "program_code"])
        .agg(households=("loan_index", "size"), amount=("loan_amount", "mean"))
    )
    per_year["households"] = per_year.households / 3
    years = np.arange(2026, 2031)
    frame = per_year.reset_index().merge(pd.DataFrame({"plan_year": years}), how="cross")
    growth = 1.06 ** (frame.plan_year - 2025) * rng.uniform(0.85, 1.2, len(frame))
    frame["households"] = np.maximum(1, np.round(frame.households * growth)).astype(int)
    caps = program_terms().groupby("program_code").loan_cap_vnd.last()
    average = np.minimum(frame.amount * 1.08, frame.program_code.map(caps))
    frame["demand_amount"] = (frame.households * np.round(average / 1e6) * 1e6).astype(np.int64)
    per_household = {"06": 1.6, "02": 1.1}  # water works per household; students per household
    frame["beneficiary_count"] = np.round(frame.households * frame.program_code.map(per_household).fillna(1.0)).astype(
        int
    )
    frame["survey_date"] = np.datetime64("2025-10-15")
    return frame.rename(columns={"new_commune_code": "commune_code"})[
        ["survey_date", "commune_code", "program_code", "plan_year", "households", "demand_amount", "beneficiary_count"]
    ]
