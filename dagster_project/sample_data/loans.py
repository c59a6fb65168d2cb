"""Loan contracts and their instalment schedules.

Programs follow the household's category on the certified list that serves the disbursement year;
amounts grow with the caps over the years and never exceed the program's cap at disbursement;
rates, caps and maximum terms come from seeds/program_terms.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.sample_data import config as C
from dagster_project.sample_data.catalogue import P, overdue_rate_multiplier, program_terms
from dagster_project.sample_data.dates import interpolate_by_year, month, month_of_year, on_day, year_of_month
from dagster_project.sample_data.geography import Province
from dagster_project.sample_data.households import JUST_OUT, NEAR_POOR, OTHER, POOR, Households

PURPOSES = np.array(["production", "study", "job", "work_abroad", "water", "latrine", "water_and_latrine", "house",
                     "social_house"], dtype=object)
PURPOSE = {name: i for i, name in enumerate(PURPOSES)}
PROGRAM_PURPOSE = {"01": "production", "19": "production", "09": "production", "10": "production", "99": "production",
                   "02": "study", "03": "job", "04": "work_abroad", "07": "house", "12": "social_house"}

# When programs opened (domain facts to verify: parameters). Before, a household borrows under `10`.
NEAR_POOR_FROM = month("2013-01-01")  # Decision 15/2013
JUST_OUT_FROM = month("2015-07-01")  # Decision 28/2015
SOCIAL_HOUSING_FROM = month("2016-01-01")  # Decree 100/2015
STUDENTS_FROM = month("2007-10-01")  # Decision 157/2007
WORKERS_ABROAD_FROM = month("2008-01-01")
WATER_FROM = month("2004-01-01")
HOUSING_PERIODS = ((month("2009-01-01"), month("2012-12-01")), (month("2015-01-01"), month("2022-12-01")))  # 167/2008, 33/2015
LOCAL_PROGRAM_FROM = month("2012-01-01")

# Share of new main loans funded by the local budget (the local capital grew 280-fold in 2014-2024).
LOCAL_LENDING_SHARE = {2011: 0.0, 2014: 0.0006, 2016: 0.002, 2018: 0.006, 2020: 0.013, 2022: 0.026, 2024: 0.042, 2027: 0.05}
# Typical size of a loan relative to 2024, as caps and household needs grew.
SIZE_INDEX = {1996: 0.12, 2005: 0.2, 2010: 0.3, 2013: 0.37, 2014: 0.42, 2016: 0.5, 2018: 0.6, 2020: 0.7, 2022: 0.88,
              2023: 0.95, 2024: 1.0, 2026: 1.08, 2031: 1.3}
AMOUNT_RANGE_2024 = {  # million VND at 2024 sizes, before AMOUNT_SCALE and the cap
    "01": (60, 100), "19": (60, 100), "09": (60, 100), "10": (50, 100), "03": (50, 100), "99": (40, 100),
    "04": (60, 150), "12": (250, 500),
}
WATER_WORK_MVND = {2004: 4, 2010: 6, 2014: 8, 2018: 10, 2021.9: 12, 2022: 20, 2024.66: 20, 2024.67: 25}  # one work item
HOUSE_MVND = {"before_2015": 8, "from_2015": 25}  # Decisions 167/2008 and 33/2015
STUDY_MONTHLY_MVND = {2007: 0.8, 2013: 1.0, 2017: 1.5, 2019: 2.5, 2022: 4.0}

# Side loans a household takes during its spell.
WATER_LOANS_PER_HOUSEHOLD = 0.55  # Poisson mean: 101,859 works in 10 years in Tuyên Quang
HOUSING_SHARE_OF_POOR = 0.10
STUDENT_SHARE = 0.015
WORKER_ABROAD_SHARE = 0.006
JOB_CREATION_SHARE = 0.04
SOCIAL_HOUSING_SHARE_URBAN = 0.01
MAIN_LOAN_GAP = (0.35, 12)  # share taking the next loan at once; otherwise 1-12 months later
CONTINUE_WHEN_OTHER = 0.4  # a household no longer on any list takes another (production) loan


def _shares(rng, n: int, table: dict) -> np.ndarray:
    values, weights = zip(*table.items())
    return np.asarray(values)[rng.choice(len(values), n, p=np.asarray(weights) / sum(weights))]


def _main_program(rng, status: np.ndarray, months: np.ndarray, urban: np.ndarray) -> np.ndarray:
    other = np.where(urban | (rng.random(len(status)) < 0.3), P["03"], P["10"])
    program = np.select(
        [status == POOR, (status == NEAR_POOR) & (months >= NEAR_POOR_FROM), (status == JUST_OUT) & (months >= JUST_OUT_FROM)],
        [P["01"], P["19"], P["09"]], other)
    return program


def _terms(rng, program: np.ndarray, months: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Term, repayment interval and grace (months) by program; term = grace + instalments × interval."""
    n = len(program)
    interval = np.where(rng.random(n) < 0.75, 12, 6)
    term = _shares(rng, n, {36: 0.15, 48: 0.2, 60: 0.45, 84: 0.1, 120: 0.1})
    grace = np.zeros(n, dtype=np.int64)
    short = np.isin(program, [P["10"], P["03"]])
    term = np.where(short, _shares(rng, n, {36: 0.4, 48: 0.3, 60: 0.3}), term)
    term = np.where(program == P["99"], _shares(rng, n, {24: 0.2, 36: 0.5, 48: 0.3}), term)
    water = program == P["06"]
    term = np.where(water, _shares(rng, n, {60: 0.8, 48: 0.2}), term)
    abroad = program == P["04"]
    term, interval = np.where(abroad, 36, term), np.where(abroad, 6, interval)
    house = program == P["07"]
    late_house = months >= HOUSING_PERIODS[1][0]
    term = np.where(house, np.where(late_house, 180, 120), term)  # 5 years' grace, then 5 or 10 yearly instalments
    interval, grace = np.where(house, 12, interval), np.where(house, 60, grace)
    social = program == P["12"]
    term, interval = np.where(social, 300, term), np.where(social, 12, interval)
    # Students: the household repays after graduation (study of 3-5 years, then a year), every 6 months.
    student = program == P["02"]
    study = _shares(rng, n, {36: 0.3, 48: 0.5, 60: 0.2})
    student_grace = study + 12
    repayments = np.minimum(rng.integers(4, 11, n), (120 - student_grace) // 6)
    term = np.where(student, student_grace + 6 * repayments, term)
    interval, grace = np.where(student, 6, interval), np.where(student, student_grace, grace)
    return term.astype(np.int64), interval.astype(np.int64), grace


def _amounts(rng, program: np.ndarray, days: np.ndarray, term: np.ndarray, grace: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amount (VND, whole millions) and purpose of each loan."""
    n = len(program)
    size = interpolate_by_year(days, SIZE_INDEX)
    low = np.zeros(n)
    high = np.zeros(n)
    for code, (lo, hi) in AMOUNT_RANGE_2024.items():  # a pass per program
        rows = program == P[code]
        low[rows], high[rows] = lo, hi
    millions = rng.uniform(low, high) * size * C.AMOUNT_SCALE
    purpose = np.full(n, PURPOSE["production"])
    for code, name in PROGRAM_PURPOSE.items():
        purpose[program == P[code]] = PURPOSE[name]
    # Clean water and sanitation: one or two work items (a water work, a latrine) of a set amount.
    water = program == P["06"]
    works = np.where(rng.random(n) < 0.55, 2, 1)
    millions = np.where(water, works * interpolate_by_year(days, WATER_WORK_MVND) * rng.uniform(0.8, 1.0, n), millions)
    purpose = np.where(water, np.where(works == 2, PURPOSE["water_and_latrine"],
                                       np.where(rng.random(n) < 0.6, PURPOSE["water"], PURPOSE["latrine"])), purpose)
    house = program == P["07"]
    millions = np.where(house, np.where(days >= on_day(HOUSING_PERIODS[1][0], 1), HOUSE_MVND["from_2015"],
                                        HOUSE_MVND["before_2015"]), millions)
    student = program == P["02"]
    millions = np.where(student, (grace - 12) * interpolate_by_year(days, STUDY_MONTHLY_MVND) * rng.uniform(0.3, 0.7, n), millions)
    return np.maximum(1, np.round(millions)).astype(np.int64) * 1_000_000, purpose


def build_loans(rng: np.random.Generator, config: C.GenerationConfig, province: Province, households: Households) -> pd.DataFrame:
    """Every loan of every household's spell, up to the end of the ledger."""
    end_month = month_of_year(config.end_year, 12)
    urban = province.communes.urban.to_numpy()[households.commune]
    frames = []

    # Main loans, one after another: the program follows the household's category at the time.
    next_month = households.start_month.copy()
    alive = np.ones(len(households), dtype=bool)
    for k in range(max(households.main_loans, default=0)):  # at most five rounds
        alive &= (households.main_loans > k) & (next_month <= end_month)
        status = households.status(year_of_month(next_month) - 1)
        # Out of poverty, most households stop borrowing; some go on with production loans.
        alive &= (k == 0) | (status != OTHER) | (rng.random(len(households)) < CONTINUE_WHEN_OTHER)
        rows = np.flatnonzero(alive)
        months = next_month[rows]
        status = status[rows]
        program = _main_program(rng, status, months, urban[rows])
        local = rng.random(len(rows)) < interpolate_by_year((year_of_month(months) - 1970) * 365.2425, LOCAL_LENDING_SHARE)
        program = np.where(local & (status == OTHER) & (months >= LOCAL_PROGRAM_FROM), P["99"], program)
        term, interval, grace = _terms(rng, program, months)
        frames.append(pd.DataFrame({"household": rows, "program": program, "local": local | (program == P["99"]),
                                    "month": months, "term": term, "interval": interval, "grace": grace, "main": k + 1}))
        gap = np.where(rng.random(len(rows)) < MAIN_LOAN_GAP[0], 0, rng.integers(1, MAIN_LOAN_GAP[1] + 1, len(rows)))
        next_month[rows] = months + term + gap
    main = pd.concat(frames, ignore_index=True)
    spell_end = np.full(len(households), -1, dtype=np.int64)
    np.maximum.at(spell_end, main.household.to_numpy(), (main.month + main.term).to_numpy())
    main["last_main"] = main.main.to_numpy() == households.main_loans[main.household.to_numpy()]

    side = _side_loans(rng, households, urban, spell_end, end_month)
    loans = pd.concat([main, side], ignore_index=True)
    loans = loans[loans.month <= end_month]
    # Loans are numbered by household (in order of arrival), then by date.
    loans = loans.sort_values(["household", "month", "main"], kind="stable", ignore_index=True)

    h = loans.household.to_numpy()
    program = loans.program.to_numpy()
    tday = province.communes.transaction_day.to_numpy()[households.commune[h]]
    days = on_day(loans.month.to_numpy(), tday)
    rate, cap, max_term = program_terms().at(program, days)
    grace, interval = loans.grace.to_numpy(), loans.interval.to_numpy()
    # Within the program's maximum term, keeping term = grace + instalments × interval.
    instalments = np.maximum(1, (np.minimum(loans.term.to_numpy(), max_term) - grace) // interval)
    term = grace + instalments * interval
    amount, purpose = _amounts(rng, program, days, term, grace)
    amount = np.minimum(amount, cap)
    group = households.group[h]
    return loans.assign(
        commune=households.commune[h],
        village=households.village[h],
        group=np.where(program == P["12"], -1, group),  # social housing is lent directly by the bank
        transaction_day=tday,
        disbursement_day=days,
        term=term,
        instalments=instalments,
        amount=amount,
        purpose=purpose,
        rate=rate,
        overdue_rate=np.round(rate * overdue_rate_multiplier(), 4),
        due_month=loans.month.to_numpy() + term,
    )


def _side_loans(rng, households: Households, urban: np.ndarray, spell_end: np.ndarray, end_month: int) -> pd.DataFrame:
    n = len(households)
    start = households.start_month
    span = np.maximum(spell_end - start, 12)
    frames = []

    def add(rows, program, months):
        keep = months <= end_month
        rows, months = rows[keep], months[keep]
        frames.append(pd.DataFrame({"household": rows, "program": np.full(len(rows), P[program]), "local": False,
                                    "month": months, "main": 0, "last_main": False}))

    count = rng.poisson(WATER_LOANS_PER_HOUSEHOLD, n)
    rows = np.repeat(np.arange(n), count)
    add(rows, "06", np.maximum(start[rows] + (rng.random(len(rows)) * span[rows]).astype(np.int64), WATER_FROM))
    months = start + rng.integers(0, 12, n)
    in_period = np.zeros(n, dtype=bool)
    for first, last in HOUSING_PERIODS:
        in_period |= (months >= first) & (months <= last)
    rows = np.flatnonzero(in_period & (households.status_at_start == POOR) & (rng.random(n) < HOUSING_SHARE_OF_POOR))
    add(rows, "07", months[rows])
    months = start + rng.integers(0, 48, n)
    rows = np.flatnonzero((households.status_at_start <= NEAR_POOR) & (months >= STUDENTS_FROM) & (rng.random(n) < STUDENT_SHARE))
    add(rows, "02", months[rows])
    months = start + (rng.random(n) * span).astype(np.int64)
    rows = np.flatnonzero((months >= WORKERS_ABROAD_FROM) & (rng.random(n) < WORKER_ABROAD_SHARE))
    add(rows, "04", months[rows])
    months = start + (rng.random(n) * span).astype(np.int64)
    rows = np.flatnonzero(rng.random(n) < JOB_CREATION_SHARE)
    add(rows, "03", months[rows])
    months = np.maximum(start + (rng.random(n) * span).astype(np.int64), SOCIAL_HOUSING_FROM)
    rows = np.flatnonzero(urban & (households.status_at_start == OTHER) & (rng.random(n) < SOCIAL_HOUSING_SHARE_URBAN))
    add(rows, "12", months[rows])
    side = pd.concat(frames, ignore_index=True)
    term, interval, grace = _terms(rng, side.program.to_numpy(), side.month.to_numpy())
    return side.assign(term=term, interval=interval, grace=grace)


def build_schedules(loans: pd.DataFrame) -> pd.DataFrame:
    """Equal instalments in thousands of VND after any grace, the last taking the remainder, each on
    the transaction day of its month; the last falls on the contract due date."""
    count = loans.instalments.to_numpy()
    loan = np.repeat(np.arange(len(loans)), count)
    number = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + 1
    amount = loans.amount.to_numpy()[loan]
    each = (amount // count[loan]) // 1000 * 1000
    principal = np.where(number == count[loan], amount - each * (count[loan] - 1), each)
    months = loans.month.to_numpy()[loan] + loans.grace.to_numpy()[loan] + number * loans.interval.to_numpy()[loan]
    return pd.DataFrame({"loan": loan, "instalment_no": number, "due_month": months,
                         "due_day": on_day(months, loans.transaction_day.to_numpy()[loan]), "principal": principal})
