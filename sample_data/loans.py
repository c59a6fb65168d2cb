"""Loan contracts, their instalment schedules, and what becomes of each (its fate)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from dagster_project.domain.landing_contract import REORGANISATION_DATE
from dagster_project.ingest.admin_units import commune_crosswalk, new_communes, old_communes
from dagster_project.ingest.rates import prepare_allowed_rates
from dagster_project.settings import SEEDS_DIR
from sample_data.config import AMOUNT_FACTOR, LOANS_PER_BORROWER, GenerationConfig
from sample_data.text import code

# Programs a household takes, by its category: (program, share, amount range as a share of the cap,
# term in months, grace months before the first instalment).
PROGRAM_MIX = {
    "poor": [("01", 0.50), ("06", 0.22), ("07", 0.05), ("03", 0.06), ("02", 0.07), ("10", 0.06), ("99", 0.04)],
    "near_poor": [("19", 0.52), ("06", 0.20), ("03", 0.08), ("02", 0.08), ("10", 0.08), ("99", 0.04)],
    "just_out_of_poverty": [("09", 0.55), ("06", 0.20), ("03", 0.09), ("02", 0.06), ("10", 0.06), ("99", 0.04)],
    "other": [("06", 0.36), ("03", 0.24), ("02", 0.10), ("04", 0.05), ("10", 0.17), ("12", 0.03), ("99", 0.05)],
}
# The program a household's local-budget loan takes where its province has set no local rate.
LOCAL_BUDGET_FALLBACK = {"poor": "01", "near_poor": "19", "just_out_of_poverty": "09", "other": "03"}
PROGRAM_SHAPE = {  # program: (amount low, amount high as shares of the cap, term months, grace months, interval)
    "01": (0.45, 0.95, 60, 0, 12),
    "19": (0.45, 0.95, 60, 0, 12),
    "09": (0.45, 0.95, 60, 0, 12),
    "02": (0.20, 0.55, 96, 48, 6),
    "03": (0.35, 0.90, 48, 0, 12),
    "04": (0.45, 0.90, 36, 0, 6),
    "06": (0.45, 1.00, 60, 0, 12),
    "07": (0.95, 1.00, 180, 60, 12),
    "12": (0.45, 0.85, 300, 0, 12),
    "10": (0.40, 0.90, 48, 0, 12),
    "99": (0.40, 0.90, 36, 0, 12),
}

# What becomes of a loan. Loans disbursed before the ledger starts are all repaid or extended.
FATES = np.array(["repaid", "extended", "overdue_recovered", "overdue_unpaid", "frozen"])
FATE_SHARES = [0.964, 0.018, 0.008, 0.004, 0.006]
RISK_CAUSES = np.array(["K1", "K2", "K3", "K4a", "K4b", "K4c", "K5"])
RISK_CAUSE_SHARES = [0.33, 0.02, 0.10, 0.25, 0.07, 0.22, 0.01]


@dataclass
class LoanBook:
    loans: pd.DataFrame  # one row per loan, internal columns included
    instalments: pd.DataFrame  # loan_index, instalment_no, due_date, principal_due


def program_terms() -> pd.DataFrame:
    terms = pd.read_csv(SEEDS_DIR / "program_terms.csv", dtype={"program_code": str})
    terms["valid_from"] = pd.to_datetime(terms.valid_from)
    terms["valid_to"] = pd.to_datetime(terms.valid_to.str.replace("9999", "2200"))
    return terms


def loan_rates(program: np.ndarray, disbursed: np.ndarray, commune_code: np.ndarray) -> np.ndarray:
    """Each loan's rate (NaN where none is allowed): the rate its commune has for the program on the
    day (an area list's, its province's own) where there is one, else the program's
    (dagster_project/ingest/rates.py). No borrower of the sample is of a special-rate category."""
    with duckdb.connect() as conn:
        for name, frame in (("old", old_communes()), ("new", new_communes()), ("crosswalk", commune_crosswalk())):
            conn.register(f"admin_{name}", frame)
        prepare_allowed_rates(conn, "admin_old", "admin_new", "admin_crosswalk")
        loans = pd.DataFrame(
            {
                "loan_row": np.arange(len(program)),
                "program_code": program,
                "disbursement_date": disbursed,
                "commune_code": commune_code,
            }
        )
        conn.register("generated_loans", loans)
        return conn.execute(
            """
            select coalesce(arg_max(cast(r.annual_rate_pct as double), r.commune_code is not null), 'NaN') as rate
            from generated_loans as l
            left join rule_allowed_rates as r
                on r.program_code = l.program_code and r.borrower_category is null
                and cast(l.disbursement_date as date) between r.valid_from and r.valid_to
                and (r.commune_code is null or r.commune_code = l.commune_code)
            group by l.loan_row order by l.loan_row
            """
        ).fetchnumpy()["rate"]


def month_day(months: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The date on `day` (1-28) of each month (datetime64[M])."""
    return months.astype("datetime64[D]") + (np.asarray(day) - 1).astype("timedelta64[D]")


def build_loans(
    config: GenerationConfig,
    borrowers: pd.DataFrame,
    groups: pd.DataFrame,
    communes: pd.DataFrame,
    rng: np.random.Generator,
) -> LoanBook:
    n = int(round(len(borrowers) * LOANS_PER_BORROWER))
    borrower = np.sort(rng.integers(0, len(borrowers), n))
    category = borrowers.category.to_numpy()[borrower]
    program = np.empty(n, dtype=object)
    for name, mix in PROGRAM_MIX.items():  # a loop per category, not per loan
        rows = category == name
        codes, shares = zip(*mix)
        program[rows] = rng.choice(codes, rows.sum(), p=np.array(shares) / sum(shares))

    # Disbursements grow about 7 % a year; each on the transaction day of the borrower's commune.
    years = np.arange(config.first_disbursement_year, config.end_year + 1)
    weights = 1.07 ** (years - years[0])
    year = rng.choice(years, n, p=weights / weights.sum())
    month = (year - 1970) * 12 + rng.integers(0, 12, n)
    commune = borrowers.commune_index.to_numpy()[borrower]
    day = communes.transaction_day.to_numpy()[commune]
    disbursed = month_day(month.astype("datetime64[M]"), day)

    # A loan names its commune in the codes of its day: the rate allowed there (an area list's, the
    # province's own for local programs). Where a province has set no rate for its local programs,
    # its budget lends through the household's own program instead.
    era_commune = np.where(
        disbursed < np.datetime64(REORGANISATION_DATE),
        borrowers.old_commune_code.to_numpy()[borrower],
        borrowers.new_commune_code.to_numpy()[borrower],
    )
    local_budget = program == "99"
    rate = loan_rates(program, disbursed, era_commune)
    unset = np.isnan(rate)
    program[unset] = pd.Series(category[unset]).map(LOCAL_BUDGET_FALLBACK).to_numpy()
    rate[unset] = loan_rates(program[unset], disbursed[unset], era_commune[unset])

    shape = pd.DataFrame(PROGRAM_SHAPE, index=["low", "high", "term", "grace", "interval"]).T
    s = shape.loc[program]
    terms = program_terms()
    cap = np.zeros(n, dtype=np.int64)
    for row in terms.itertuples():  # a loop per period of a program's terms
        rows = (
            (program == row.program_code)
            & (disbursed >= row.valid_from.to_datetime64())
            & (disbursed <= row.valid_to.to_datetime64())
        )
        cap[rows] = row.loan_cap_vnd
    size = 0.55 + 0.45 * np.clip((year - 2009) / 16, 0, 1)  # loans grew with the caps over the years
    share = rng.uniform(s.low.to_numpy(float), s.high.to_numpy(float)) * size * AMOUNT_FACTOR
    amount = np.minimum(cap, np.maximum(1, np.round(cap * share / 1e6)) * 1_000_000).astype(np.int64)

    term = s.term.to_numpy(int)
    interval = np.where((s.interval.to_numpy(int) == 12) & (rng.random(n) < 0.2), 6, s.interval.to_numpy(int))
    grace = s.grace.to_numpy(int)
    instalment_count = np.maximum(1, (term - grace) // interval)

    fate = rng.choice(len(FATES), n, p=FATE_SHARES)
    fate[(disbursed < np.datetime64(config.start_date)) & (fate > 1)] = 0
    funding = np.where(local_budget | ((program == "01") & (rng.random(n) < 0.02)), "local", "central")

    group_index = borrowers.group_index.to_numpy()[borrower]
    group_lookup = groups.set_index("group_index")
    in_group = group_index >= 0
    group_id = np.where(in_group, group_lookup.group_id.reindex(group_index).to_numpy(), None)
    organisation = np.where(in_group, group_lookup.organisation_code.reindex(group_index).to_numpy(), None)

    loans = pd.DataFrame(
        {
            "loan_index": np.arange(n),
            "borrower_index": borrower,
            "commune_index": commune,
            "program_code": program,
            "funding_source": funding,
            "loan_amount": amount,
            "disbursement_date": disbursed,
            "annual_rate": rate,
            "overdue_annual_rate": np.round(rate * 1.3, 4),
            "term_months": term,
            "contract_due_date": month_day(month.astype("datetime64[M]") + term, day),
            "repayment_interval_months": interval,
            "grace_months": grace,
            "instalment_count": instalment_count,
            "group_id": group_id,
            "organisation_code": organisation,
            "fate": FATES[fate],
            "transaction_day": day,
            "disbursement_month": month,
        }
    )
    loans["loan_id"] = code("HD" + config.id_prefix, loans.loan_index + 1, 9)
    purpose = {
        "01": "production",
        "19": "production",
        "09": "production",
        "10": "production",
        "99": "production",
        "02": "study",
        "03": "job",
        "04": "work_abroad",
        "07": "house",
        "12": "social_house",
    }
    loans["purpose"] = loans.program_code.map(purpose).fillna(
        pd.Series(rng.choice(["water", "latrine", "water_and_latrine"], n, p=[0.35, 0.15, 0.5]))
    )
    return LoanBook(loans, _instalments(loans))


def _instalments(loans: pd.DataFrame) -> pd.DataFrame:
    """Equal instalments (the last takes the remainder) on the transaction day, after any grace."""
    count = loans.instalment_count.to_numpy()
    loan = np.repeat(loans.loan_index.to_numpy(), count)
    number = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + 1
    amount = loans.loan_amount.to_numpy()[loan]
    each = amount // count[loan]
    principal = np.where(number == count[loan], amount - each * (count[loan] - 1), each)
    months = (
        loans.disbursement_month.to_numpy()[loan]
        + loans.grace_months.to_numpy()[loan]
        + number * loans.repayment_interval_months.to_numpy()[loan]
    )
    due = month_day(months.astype("datetime64[M]"), loans.transaction_day.to_numpy()[loan])
    return pd.DataFrame({"loan_index": loan, "instalment_no": number, "due_date": due, "principal_due": principal})
