"""Group, fee, capital, eligibility and mobile-banking marts against pandas recomputations from the landing files."""

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_project.ingest.admin_units import commune_crosswalk
from dagster_project.settings import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
MONTH = pd.Timestamp("2025-03-31")


@pytest.fixture(scope="module")
def warehouse(small_warehouse):
    return small_warehouse[0]


@pytest.fixture(scope="module")
def landing(warehouse):
    root = warehouse.landing_dir

    def csv(name):
        return pd.read_csv(next((root / name).glob("*/*.csv")), dtype=str, encoding="utf-8-sig")

    def parquet(name):
        return pd.concat(pd.read_parquet(p) for p in sorted((root / name).glob("*/*.parquet")))

    t = parquet("transactions")
    t["transaction_date"] = pd.to_datetime(t.transaction_date)
    t["net"] = t.principal_amount.where(t.to_bucket.notna(), 0) - t.principal_amount.where(t.from_bucket.notna(), 0)
    savings = parquet("savings_deposits")
    savings["deposit_date"] = pd.to_datetime(savings.deposit_date)
    loans = csv("loans")
    schedules = csv("loan_schedules")
    schedules["due_date"] = pd.to_datetime(schedules.due_date)
    schedules["principal_due"] = schedules.principal_due.astype(np.int64)
    return {
        "transactions": t,
        "savings": savings,
        "loans": loans,
        "schedules": schedules,
        "groups": csv("groups"),
        "points": csv("transaction_points"),
        "borrowers": csv("borrowers"),
        "certified": csv("certified_households"),
        "capital": csv("capital_sources"),
    }


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return conn.execute(sql).df()


def month_end(dates: pd.Series) -> pd.Series:
    return dates + pd.offsets.MonthEnd(0)


def bucket_balance(t: pd.DataFrame, bucket: str, upto: pd.Timestamp) -> pd.Series:
    rows = t[t.transaction_date <= upto]
    moved = rows.principal_amount.where(rows.to_bucket == bucket, 0) - rows.principal_amount.where(
        rows.from_bucket == bucket, 0
    )
    return moved.groupby(rows.loan_id).sum()


def group_measures(data: dict, group_id: str, as_of: pd.Timestamp) -> dict:
    loans = data["loans"][data["loans"].group_id == group_id].set_index("loan_id")
    t = data["transactions"][data["transactions"].loan_id.isin(loans.index)]
    previous = as_of - pd.offsets.MonthEnd(1)
    in_month = t[month_end(t.transaction_date) == as_of]
    outstanding = sum(bucket_balance(t, b, as_of).sum() for b in ("current", "overdue", "frozen"))
    overdue = bucket_balance(t, "overdue", as_of).sum()
    rates = loans.annual_rate.astype(float), loans.overdue_annual_rate.astype(float)
    current_at_start = bucket_balance(t, "current", previous).reindex(loans.index, fill_value=0)
    # each loan's month of interest rounded to the đồng, as the loan state accrues it
    interest_due = (
        (
            (
                current_at_start * rates[0]
                + bucket_balance(t, "overdue", previous).reindex(loans.index, fill_value=0) * rates[1]
            )
            / 1200
        )
        .round()
        .sum()
    )
    # principal due: the instalments of the month, moved by extensions and reschedulings to the month of
    # their new due date, at most what was current at the start; collected: repaid from current, up to it
    s = data["schedules"]
    s = s[s.loan_id.isin(loans.index)]
    moves = t[t.transaction_type.isin(["extension", "rescheduling"])]
    due = (
        s[month_end(s.due_date) == as_of].groupby("loan_id").principal_due.sum().reindex(loans.index, fill_value=0)
        - moves[month_end(moves.transaction_date) == as_of]
        .groupby("loan_id")
        .principal_amount.sum()
        .reindex(loans.index, fill_value=0)
        + moves[month_end(pd.to_datetime(moves.new_due_date)) == as_of]
        .groupby("loan_id")
        .principal_amount.sum()
        .reindex(loans.index, fill_value=0)
    )
    due = np.minimum(due.clip(lower=0), current_at_start)
    repaid = in_month[(in_month.transaction_type == "principal_repayment") & (in_month.from_bucket == "current")]
    collected = np.minimum(repaid.groupby("loan_id").principal_amount.sum().reindex(loans.index, fill_value=0), due)
    principal_due = due.sum()
    sv = data["savings"][data["savings"].group_id == group_id]
    this, last = sv[month_end(sv.deposit_date) == as_of], sv[month_end(sv.deposit_date) == previous]
    days = data["points"].set_index("transaction_point_id").transaction_day.astype(int)
    activity = pd.concat(
        [
            this[["deposit_date", "transaction_point_id"]].set_axis(["d", "tp"], axis=1),
            in_month[["transaction_date", "transaction_point_id"]].set_axis(["d", "tp"], axis=1),
        ]
    )
    group = data["groups"].set_index("group_id").loc[group_id]
    return {
        "members_with_savings": this.depositing_members.sum() / int(group.member_count),
        "overdue_ratio": overdue / outstanding if outstanding > 0 else 0,
        "interest_collection": in_month.interest_amount.sum() / interest_due if interest_due > 0 else 1,
        "principal_collection": collected.sum() / principal_due if principal_due > 0 else 1,
        "savings_growth": (
            this.amount.sum() / last.amount.sum() if last.amount.sum() > 0 else 1 if this.amount.sum() > 0 else 0
        ),
        "attendance": float((activity.d.dt.day == activity.tp.map(days)).any()),
    }


def test_a_groups_score_equals_the_seed_rules_applied_to_the_raw_ledger(warehouse, landing):
    criteria = pd.read_csv(SEEDS / "group_score_criteria.csv").set_index("criterion_code")
    bands = pd.read_csv(SEEDS / "group_rating_bands.csv")
    card = query(warehouse, f"select * from mart_group_scorecard where as_of_date = '{MONTH.date()}'")
    # the group with the most loans, so every criterion has something to score
    busiest = landing["loans"][landing["loans"].group_id.isin(card.group_id)].group_id.value_counts().index[0]
    measures = group_measures(landing, busiest, MONTH)
    row = card.set_index("group_id").loc[busiest]
    total = 0.0
    for code, value in measures.items():
        c = criteria.loc[code]
        points = round(
            c.max_points * min(1, max(0, (value - c.zero_points_at) / (c.full_points_at - c.zero_points_at))), 2
        )
        assert float(row[f"{code}_points"]) == pytest.approx(points, abs=0.011), code
        total += points
    assert float(row.score) == pytest.approx(total, abs=0.02)
    band = bands[(bands.min_score <= float(row.score)) & (float(row.score) < bands.max_score)].rating.iloc[0]
    assert row.rating == band
    by_rating = query(
        warehouse,
        f"select rating, sum(group_count) n from mart_groups_by_rating where as_of_date = '{MONTH.date()}' "
        "group by rating",
    )
    assert by_rating.set_index("rating").n.to_dict() == card.rating.value_counts().to_dict()


def test_the_scorecard_counts_principal_and_interest_due_as_the_debt_quality_mart_does(warehouse):
    """One rule for what falls due and what was collected of it: the groups' figures add up to the
    debt-quality mart's for the loans lent through groups, month by month."""
    figures = (
        "sum(principal_due) principal_due, sum(principal_collected_of_due) collected, sum(interest_due) interest_due"
    )
    card = query(warehouse, f"select as_of_date, {figures} from mart_group_scorecard group by as_of_date")
    quality = query(
        warehouse,
        f"select as_of_date, {figures} from mart_debt_quality where organisation_code <> 'DIRECT' group by as_of_date",
    )
    both = card.merge(quality, on="as_of_date", suffixes=("_card", "_quality"))
    assert len(both) == len(quality) > 12 and both.principal_due_quality.sum() > 0
    for figure in ("principal_due", "collected", "interest_due"):
        assert (both[f"{figure}_card"] == both[f"{figure}_quality"]).all(), figure


def test_fees_for_one_organisation_month_are_collected_interest_times_the_rates(warehouse, landing):
    rates = pd.read_csv(SEEDS / "entrustment_fee_rates.csv").set_index("fee_kind").rate_of_interest_collected
    t, loans, groups = landing["transactions"], landing["loans"], landing["groups"].set_index("group_id")
    t = t[month_end(t.transaction_date) == MONTH].merge(loans[["loan_id", "group_id"]].dropna(), on="loan_id")
    t["organisation_code"] = t.group_id.map(groups.organisation_code)
    interest = t[t.organisation_code == "HPN"].groupby("group_id").interest_amount.sum()
    half_up = lambda x: np.floor(x + 0.5).astype(np.int64)  # noqa: E731
    fees = query(
        warehouse,
        f"""select sum(interest_collected) i, sum(organisation_fee) f, sum(group_commission) c
            from mart_entrustment_fees
            where as_of_date = '{MONTH.date()}' and organisation_code = 'HPN'""",
    ).iloc[0]
    assert fees.i == interest.sum() > 0
    assert fees.f == half_up(interest * rates["organisation_fee"]).sum()
    assert fees.c == half_up(interest * rates["group_commission"]).sum()


def test_local_capital_multiple_against_a_base_year_the_sample_has(warehouse, landing, tmp_path):
    capital = landing["capital"]
    capital["signed"] = capital.amount.astype(np.int64) * np.where(capital.direction == "in", 1, -1)
    capital["year"] = capital.effective_date.str[:4].astype(int)
    local = capital[capital.source == "local"]
    expected = local[local.year <= 2025].signed.sum() / local[local.year <= 2024].signed.sum()
    # the sample starts in 2024, so rebuild the mart on a copy with 2024 as the base year
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    dbt_vars = {**replace(warehouse, warehouse_path=copy).dbt_vars(), "capital_base_year": 2024}
    subprocess.run(
        ["dbt", "run", "--profiles-dir", ".", "-s", "mart_capital_sources", "--vars", json.dumps(dbt_vars)],
        cwd=ROOT / "dbt",
        check=True,
        capture_output=True,
    )
    with duckdb.connect(str(copy), read_only=True) as conn:
        mart = conn.execute(
            "select capital_year, year_end_balance, multiple_of_base_year, share_of_total_capital "
            "from mart_capital_sources where source = 'local' order by capital_year"
        ).df()
    assert mart.year_end_balance.tolist() == [local[local.year <= y].signed.sum() for y in (2024, 2025)]
    assert float(mart.multiple_of_base_year.iloc[1]) == pytest.approx(expected, rel=1e-6)
    total_2025 = capital[capital.year <= 2025].signed.sum()
    assert float(mart.share_of_total_capital.iloc[1]) == pytest.approx(
        mart.year_end_balance.iloc[1] / total_2025, rel=1e-6
    )
    # in the module's warehouse the base year 2014 is before the ledger: no multiple rather than a wrong one
    assert query(warehouse, "select count(multiple_of_base_year) n from mart_capital_sources").n.iloc[0] == 0


def test_eligibility_exceptions_are_the_loans_off_the_certified_list(warehouse, landing):
    loans, borrowers, certified = landing["loans"], landing["borrowers"], landing["certified"]
    required = {"01": "poor", "19": "near_poor", "09": "just_out_of_poverty"}
    checked = loans[loans.program_code.isin(required)].copy()
    # lists are certified at year end for the next year: a loan is checked against the year before's
    checked["year"] = (checked.disbursement_date.str[:4].astype(int) - 1).astype(str)
    checked["household_id"] = checked.borrower_id.map(borrowers.set_index("borrower_id").household_id)
    checked = checked[checked.year.isin(set(certified.certification_year))]
    listed = set(zip(certified.certification_year, certified.household_id, certified.category))
    on_list = [
        (y, h, required[p]) in listed for y, h, p in zip(checked.year, checked.household_id, checked.program_code)
    ]
    expected = set(checked.loan_id[~np.array(on_list)])
    mart = query(warehouse, "select loan_id, borrower_key from mart_eligibility_exceptions")
    assert set(mart.loan_id) == expected
    assert not mart.borrower_key.isin(borrowers.borrower_id).any()


def test_mobile_banking_rate_per_new_commune(warehouse, landing):
    t, loans, borrowers = landing["transactions"], landing["loans"], landing["borrowers"]
    after = t[t.transaction_date >= "2025-07-01"].sort_values(["transaction_date", "transaction_id"])
    later = after.groupby("loan_id").commune_code.last()
    default = commune_crosswalk().query("is_default_successor").set_index("old_commune_code").new_commune_code
    loans = loans.assign(new_commune_code=loans.loan_id.map(later).fillna(loans.commune_code.map(default)))
    owing = t[t.transaction_date <= MONTH].groupby("loan_id").net.sum()
    owing = loans[loans.loan_id.isin(owing[owing > 0].index)][["new_commune_code", "borrower_id"]].drop_duplicates()
    owing["mobile"] = owing.borrower_id.map(borrowers.set_index("borrower_id").mobile_banking.str.lower() == "true")
    expected = owing.groupby("new_commune_code").agg(n=("borrower_id", "size"), m=("mobile", "sum"))
    mart = query(warehouse, f"select * from mart_mobile_banking where as_of_date = '{MONTH.date()}'").set_index(
        "new_commune_code"
    )
    assert mart.borrowers_with_outstanding.to_dict() == expected.n.to_dict()
    assert mart.borrowers_with_mobile_banking.to_dict() == expected.m.to_dict()
    assert np.allclose(mart.mobile_banking_rate.astype(float), (expected.m / expected.n).reindex(mart.index))


def test_every_mart_has_rows(warehouse):
    for mart in (
        "mart_group_scorecard",
        "mart_groups_by_rating",
        "mart_entrustment_fees",
        "mart_capital_sources",
        "mart_policy_outcomes",
        "mart_eligibility_exceptions",
        "mart_mobile_banking",
    ):
        assert query(warehouse, f"select count(*) n from {mart}").n.iloc[0] > 0, mart
