"""One old province's sample: households, groups, loans with their schedules and fates, the
principal ledger, and the registers in the contract's columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dagster_project.contract import REORGANISATION_DATE
from dagster_project.reference.admin_units import old_communes
from dagster_project.sample_data import config as C
from dagster_project.sample_data.catalogue import ORGANISATIONS, PROGRAMS, check_codes
from dagster_project.sample_data.dates import day, month_of, month_of_year, on_day
from dagster_project.sample_data.fates import apply_leavers, assign_fates, last_event_month
from dagster_project.sample_data.geography import Province, build_province
from dagster_project.sample_data.households import CATEGORIES, OTHER, build_groups, build_households, first_spell_year
from dagster_project.sample_data.keys import code, to_numpy
from dagster_project.sample_data.ledger import Balances, InterestSchedule, by_day, opening_rows, principal_events, select_days
from dagster_project.sample_data.loans import PURPOSES, build_loans, build_schedules
from dagster_project.sample_data.people import commune_mix, draw_people
from dagster_project.sample_data.planning import certified_lists, demand_survey, poor_loan_years

REFORM_DAY = day(REORGANISATION_DATE)
CALIBRATION_DATES = {"mid_2024": "2024-06-30", "mid_2014": "2014-06-30"}


@dataclass
class ProvinceBook:
    province: Province
    loans: pd.DataFrame  # every loan that may matter to the ledger (internal columns)
    included: np.ndarray  # loans in the extract (a ledger row in its years)
    events: dict  # principal movements, whole history, by loan
    balances: Balances
    written: dict  # principal rows in the ledger's years (with opening balances), by day
    month_bounds: dict  # month -> (first, stop) positions in `written`
    interest: InterestSchedule
    groups: pd.DataFrame  # groups in the register, with internal columns
    registers: dict[str, pd.DataFrame]
    loan_ids: np.ndarray
    loan_old_commune: np.ndarray
    loan_new_commune: np.ndarray
    loan_point: np.ndarray
    savings_rng: np.random.Generator
    calibration: dict = field(default_factory=dict)

    def outstanding_at(self, days: np.ndarray) -> np.ndarray:
        """The province's outstanding principal at the end of each day."""
        e = self.events
        delta = np.where(e["target"] > 0, e["amount"], 0) - np.where(e["source"] > 0, e["amount"], 0)
        order = np.argsort(e["day"], kind="stable")
        total = np.cumsum(delta[order])
        position = np.searchsorted(e["day"][order], np.asarray(days), side="right") - 1
        return np.where(position >= 0, total[np.maximum(position, 0)], 0)


def build_book(config: C.GenerationConfig, province_code: str) -> ProvinceBook:
    check_codes()
    rng = np.random.default_rng([config.seed, int(province_code)])
    province = build_province(config, province_code)
    start_day, end_day = day(config.start_date), day(config.end_date)
    groups = build_groups(rng, province)
    households = build_households(rng, config, province, groups)
    loans = build_loans(rng, config, province, households)
    first_loan_day = np.full(len(households), np.iinfo(np.int64).max)
    np.minimum.at(first_loan_day, loans.household.to_numpy(), loans.month.to_numpy())
    loans, left_month = apply_leavers(rng, loans, len(households))
    loans = assign_fates(rng, loans, province_code, len(province.communes), first_spell_year(config), config.end_year)
    # Loans closed long before the ledger starts cannot reach it.
    loans = loans[last_event_month(loans) >= month_of_year(config.start_year) - 1].reset_index(drop=True)

    schedules = build_schedules(loans)
    events = principal_events(rng, loans, schedules)
    balances = Balances.of(events)
    opening = opening_rows(loans, balances, start_day)
    d0 = loans.disbursement_day.to_numpy()
    included = np.zeros(len(loans), dtype=bool)
    included[opening["loan"]] = True
    included |= (d0 >= start_day) & (d0 <= end_day)
    included = np.flatnonzero(included)
    written = by_day({c: np.concatenate([opening[c], v]) for c, v in select_days(events, start_day, end_day).items()})
    months = month_of(written["day"])
    first, last = month_of_year(config.start_year), month_of_year(config.end_year, 12)
    edges = np.searchsorted(months, np.arange(first, last + 2))
    month_bounds = {m: (edges[i], edges[i + 1]) for i, m in enumerate(range(first, last + 1))}
    interest = InterestSchedule.of(loans, events, balances, included)

    communes = province.communes
    village_new = province.villages.new_commune_code.to_numpy()
    loan_old = communes.commune_code.to_numpy()[loans.commune.to_numpy()]
    loan_new = village_new[loans.village.to_numpy()]
    loan_point = communes.transaction_point_id.to_numpy()[loans.commune.to_numpy()]
    loan_ids = to_numpy(code(f"HD{province_code}", np.arange(1, len(loans) + 1), 8))

    registers, register_groups = _registers(rng, config, province, groups, households, loans, included, balances,
                                            first_loan_day, left_month, loan_ids, loan_old, loan_new, schedules)
    book = ProvinceBook(province, loans, included, events, balances, written, month_bounds, interest, register_groups,
                        registers, loan_ids, loan_old, loan_new, loan_point,
                        np.random.default_rng([config.seed, int(province_code), 1]))
    book.calibration = _calibration(book, households)
    return book


def _registers(rng, config, province: Province, groups, households, loans, included, balances, first_loan_month,
               left_month, loan_ids, loan_old, loan_new, schedules):
    code_ = province.code
    communes, villages = province.communes, province.villages
    end_day = day(config.end_date)
    inc = loans.iloc[included]
    h_inc = np.unique(inc.household.to_numpy())

    # Borrowers: the households with a loan in the extract; registered with their first loan ever.
    registered = on_day(first_loan_month[h_inc], communes.transaction_day.to_numpy()[households.commune[h_inc]])
    reg_year = registered.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    names, mix = commune_mix(config.seed, code_, communes.key.to_numpy(), communes.urban.to_numpy())
    province_codes = sorted(old_communes().province_code.unique())
    people = draw_people(rng, code_, province_codes, names, mix, households.commune[h_inc], reg_year, config.end_year)
    status = households.status(reg_year - 1, h_inc)
    household_ids = to_numpy(code(f"HGD{code_}", h_inc + 1, 7))
    borrower_ids = to_numpy(code(f"KH{code_}", h_inc + 1, 7))
    group = households.group[h_inc]
    group_ids = to_numpy(code(f"TO{code_}", np.arange(1, len(groups) + 1), 5))
    village = households.village[h_inc]
    old_code = communes.commune_code.to_numpy()[households.commune[h_inc]]
    new_code = villages.new_commune_code.to_numpy()[village]
    left = left_month[h_inc]
    borrowers = pd.DataFrame({
        "borrower_id": borrower_ids, "household_id": household_ids, "full_name": people["full_name"],
        "national_id": people["national_id"], "phone": people["phone"], "gender": people["gender"],
        "birth_year": people["birth_year"], "ethnicity": people["ethnicity"], "category": CATEGORIES[status],
        "eligibility_year": pd.array(np.where(status == OTHER, -1, reg_year - 1), dtype="Int64").astype("Int64"),
        "group_id": np.where(group >= 0, group_ids[np.maximum(group, 0)], None),
        "commune_code": np.where(registered < REFORM_DAY, old_code, new_code),
        "village_name": villages.village_name.to_numpy()[village],
        "registered_date": registered,
        "mobile_banking": people["mobile_banking"],
        "left_residence": (left >= 0) & (left <= month_of(np.array([end_day]))[0]),
    })
    borrowers.loc[status == OTHER, "eligibility_year"] = pd.NA
    position = np.full(len(households), -1)
    position[h_inc] = np.arange(len(h_inc))

    # Groups with members in the register; members counted among those owing at the export.
    owing = np.zeros(len(loans), dtype=bool)
    cur, ovd, frz = balances.end_of(included, end_day)
    owing[included] = (cur + ovd + frz) > 0
    owing_households = np.unique(loans.household.to_numpy()[owing])
    member_group = households.group[h_inc]
    in_register = np.unique(member_group[member_group >= 0])
    active_count = np.bincount(households.group[owing_households][households.group[owing_households] >= 0],
                               minlength=len(groups))
    # Leader: the longest-standing member still owing (else the longest-standing member).
    rank = np.lexsort((registered, ~np.isin(h_inc, owing_households), member_group))
    ranked_groups = member_group[rank]
    firsts = rank[np.r_[True, ranked_groups[1:] != ranked_groups[:-1]]]
    leader = pd.Series(borrower_ids[firsts], index=member_group[firsts])
    g = groups.iloc[in_register].copy()
    g["group_index"] = in_register
    first_loan = pd.Series(inc.disbursement_day.to_numpy()).groupby(inc.group.to_numpy()).min()
    g["established_day"] = np.minimum(g.established_day.to_numpy(), first_loan.reindex(in_register).fillna(np.inf).to_numpy()).astype(np.int64)
    g["member_count"] = np.clip(active_count[in_register], 3, 60)
    g["transaction_day"] = communes.transaction_day.to_numpy()[g.commune.to_numpy()]
    g["group_id"] = group_ids[in_register]
    g["commune_code"] = communes.commune_code.to_numpy()[g.commune.to_numpy()]
    g["new_commune_code"] = villages.new_commune_code.to_numpy()[g.village.to_numpy()]
    g["transaction_point_id"] = communes.transaction_point_id.to_numpy()[g.commune.to_numpy()]
    village_name = villages.village_name.to_numpy()[g.village.to_numpy()]
    groups_register = pd.DataFrame({
        "group_id": g.group_id.to_numpy(), "group_name": "Tổ TK&VV " + village_name.astype(object),
        "village_name": village_name,
        "commune_code": np.where(g.established_day.to_numpy() < REFORM_DAY, g.commune_code.to_numpy(), g.new_commune_code.to_numpy()),
        "transaction_point_id": g.transaction_point_id.to_numpy(),
        "organisation_code": np.asarray(ORGANISATIONS, dtype=object)[g.organisation.to_numpy()],
        "leader_borrower_id": leader.reindex(in_register).to_numpy(),
        "established_date": g.established_day.to_numpy(), "member_count": g.member_count.to_numpy(),
    })

    # Loans and their schedules.
    lg = inc.group.to_numpy()
    d0 = inc.disbursement_day.to_numpy()
    loans_register = pd.DataFrame({
        "loan_id": loan_ids[included], "borrower_id": borrower_ids[position[inc.household.to_numpy()]],
        "group_id": np.where(lg >= 0, group_ids[np.maximum(lg, 0)], None),
        "organisation_code": np.where(lg >= 0, np.asarray(ORGANISATIONS, dtype=object)[groups.organisation.to_numpy()[np.maximum(lg, 0)]], None),
        "program_code": np.asarray(PROGRAMS, dtype=object)[inc.program.to_numpy()],
        "funding_source": np.where(inc.local.to_numpy(), "local", "central"),
        "purpose": PURPOSES[inc.purpose.to_numpy()],
        "loan_amount": inc.amount.to_numpy(), "disbursement_date": d0,
        "annual_rate": inc.rate.to_numpy(), "overdue_annual_rate": inc.overdue_rate.to_numpy(),
        "term_months": inc.term.to_numpy(), "contract_due_date": on_day(inc.due_month.to_numpy(), inc.transaction_day.to_numpy()),
        "repayment_interval_months": inc.interval.to_numpy(),
        "commune_code": np.where(d0 < REFORM_DAY, loan_old[included], loan_new[included]),
        "transaction_point_id": communes.transaction_point_id.to_numpy()[inc.commune.to_numpy()],
    })
    in_extract = np.zeros(len(loans), dtype=bool)
    in_extract[included] = True
    s = schedules[in_extract[schedules.loan.to_numpy()]]
    schedules_register = pd.DataFrame({"loan_id": loan_ids[s.loan.to_numpy()], "instalment_no": s.instalment_no.to_numpy(),
                                       "due_date": s.due_day.to_numpy(), "principal_due": s.principal.to_numpy()})

    points = pd.DataFrame({
        "transaction_point_id": communes.transaction_point_id, "transaction_point_name": communes.transaction_point_name,
        "transaction_office_code": communes.transaction_office_code, "transaction_office_name": communes.transaction_office_name,
        "commune_code": communes.commune_code, "transaction_day": communes.transaction_day,
        # A point is open by its first loan.
        "opened_date": np.minimum(communes.opened_day.to_numpy(), pd.Series(loans.disbursement_day.to_numpy()).groupby(
            loans.commune.to_numpy()).min().reindex(np.arange(len(communes))).fillna(np.inf).to_numpy()).astype(np.int64),
    })

    # Certified lists (every household of the province's spells, borrowing in the extract or not).
    all_ids = to_numpy(code(f"HGD{code_}", np.arange(1, len(households) + 1), 7))
    certified = certified_lists(
        rng, households, left_month, config.start_year - 1, config.end_year,
        communes.commune_code.to_numpy()[households.commune], villages.new_commune_code.to_numpy()[households.village], all_ids,
        poor_loan_years(loans, day(config.start_date), end_day))
    survey = demand_survey(rng, loans, loan_new, config.end_year)
    registers = {"transaction_points": points, "groups": groups_register, "borrowers": borrowers, "loans": loans_register,
                 "loan_schedules": schedules_register, "certified_households": certified, "demand_survey": survey}
    return registers, g


def _calibration(book: ProvinceBook, households) -> dict:
    """The headline figures at the calibration dates, from the generator's own balances."""
    loans = book.loans
    figures = {}
    for name, when in CALIBRATION_DATES.items():
        everyone = np.arange(len(loans))
        cur, ovd, frz = book.balances.end_of(everyone, day(when))
        total = cur + ovd + frz
        owing = total > 0
        group = loans.group.to_numpy()
        figures[name] = {
            "outstanding_principal": int(total.sum()),
            "outstanding_through_groups": int(total[group >= 0].sum()),
            "overdue_principal": int(ovd.sum()),
            "frozen_principal": int(frz.sum()),
            "local_funded_outstanding": int(total[loans.local.to_numpy()].sum()),
            "borrowers": set(loans.household.to_numpy()[owing].tolist()),
            "groups": set(group[owing & (group >= 0)].tolist()),
        }
    return figures
