"""The 2026–2030 credit plan: levels that add up, figures recomputed from the landing files, the
capital-led scenario recomputed from the demand and a capital that binds, a missing capital input
flagged, the strategy flags, plan against the 2026 actuals, the planners' export read from the published
copies, also while a load holds the live warehouse, and two provinces each with communes no office
serves yet."""

import math
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from fractions import Fraction
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from dagster_project.ingest.admin_units import commune_crosswalk, new_communes
from dagster_project.outputs.plan import export_plan
from dagster_project.outputs.plan.tables import CSV_DECIMAL, CSV_SEPARATOR
from dagster_project.outputs.plan.workbook import LEVEL_YEAR_TOTAL, VS_ACTUAL
from dagster_project.settings import Settings
from dagster_project.warehouse.publish import published_mart
from sample_data import GenerationConfig
from tests.conftest import build_sample_warehouse
from tests.dbt_tests import dbt_test_statuses
from tests.landing_figures import headline_figures
from tests.tiny_landing import rewrite_control

pytestmark = pytest.mark.integration

# ends in 2026: the plan opens on 31 Dec 2025 and its first year already has actuals
SAMPLE = GenerationConfig(communes=2, start_year=2025, end_year=2026)
# old Hà Giang and Hà Nam: two branches (new Tuyên Quang 08 and Ninh Bình 37), two communes each
TWO_PROVINCES = GenerationConfig(provinces=("02", "35"), communes=2, start_year=2024, end_year=2025)
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
FIGURES = ["opening_principal", "collections", "new_disbursement", "closing_principal", "planned_households"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build_sample_warehouse(tmp_path_factory, "pcw_plan", SAMPLE)[0]


def published(settings: Settings, mart: str) -> pd.DataFrame:
    return pd.read_parquet(published_mart(settings.published_dir, mart))


def assert_children_sum_to_parents(plan: pd.DataFrame) -> None:
    """Each office is the sum of its communes, each province of its offices; a parent is found in
    its child's province, as office codes repeat across provinces."""
    keys = ["scenario", "province_code", "plan_year", "program_code", "funding_source"]
    for child, parent in (("commune", "office"), ("office", "province")):
        summed = (
            plan[plan.unit_level == child]
            .groupby(["parent_unit_code", *keys])[FIGURES]
            .sum()
            .rename_axis(["unit_code", *keys])
            .sort_index()
        )
        parents = plan[plan.unit_level == parent].set_index(["unit_code", *keys])[FIGURES].sort_index()
        pd.testing.assert_frame_equal(summed, parents, check_dtype=False)


def test_every_office_and_province_is_the_sum_of_its_children(settings):
    plan = published(settings, "mart_credit_plan")
    assert set(plan.unit_level) == {"commune", "office", "province"} and set(plan.plan_year) == set(range(2026, 2031))
    assert_children_sum_to_parents(plan)


def test_the_plan_opens_on_the_ledgers_balance_and_lends_the_capped_demand(settings):
    plans = published(settings, "mart_credit_plan").query("unit_level == 'province'")
    opening_2026 = plans.query("plan_year == 2026").groupby("scenario").opening_principal.sum()
    assert set(opening_2026) == {headline_figures(settings.landing_dir, date(2025, 12, 31))["outstanding_principal"]}
    assert set(opening_2026.index) == {"demand", "capital"}
    plan = plans.query("scenario == 'demand'")

    survey = pd.concat(
        pd.read_csv(p, dtype={"program_code": str}, encoding="utf-8-sig")
        for p in (settings.landing_dir / "demand_survey").glob("*/*.csv")
    ).reset_index(drop=True)
    terms = pd.read_csv(SEEDS / "program_terms.csv", dtype={"program_code": str})
    survey = survey.merge(terms, on="program_code")  # the cap in force on 1 January of the plan year
    survey = survey[
        (survey.valid_from <= survey.plan_year.astype(str) + "-01-01")
        & (survey.plan_year.astype(str) + "-01-01" <= survey.valid_to)
    ]
    survey["capped"] = survey.demand_amount.clip(upper=survey.households * survey.loan_cap_vnd)
    expected = survey.groupby("plan_year").capped.sum()
    actual = plan.groupby("plan_year").new_disbursement.sum()
    pd.testing.assert_series_equal(actual, expected, check_names=False, check_dtype=False, check_index_type=False)
    # each year closes on its opening, plus lending, less collections, and opens the next
    by_year = plan.groupby("plan_year")[FIGURES].sum()
    assert (
        by_year.closing_principal == by_year.opening_principal + by_year.new_disbursement - by_year.collections
    ).all()
    assert (by_year.opening_principal.iloc[1:].to_numpy() == by_year.closing_principal.iloc[:-1].to_numpy()).all()


def test_strategy_flags_mark_the_years_that_miss_a_target(settings):
    checks = published(settings, "mart_credit_plan_checks")
    targets = pd.read_csv(SEEDS / "plan_strategy_targets.csv").set_index("target_code").target_value
    plan = published(settings, "mart_credit_plan")
    unit = ["scenario", "unit_level", "province_code", "unit_code", "plan_year"]
    units = plan.groupby(unit)[["opening_principal", "closing_principal"]].sum()
    growth = (units.closing_principal - units.opening_principal) / units.opening_principal
    expected = (growth - targets["outstanding_growth"]).abs() > targets["outstanding_growth_tolerance"]
    flagged = checks.set_index(unit).misses_growth_target
    pd.testing.assert_series_equal(flagged.loc[expected.index], expected, check_names=False)
    assert len(checks) == len(units)


def test_plan_against_the_2026_actuals(settings):
    vs = published(settings, "mart_plan_vs_actual").query("unit_level == 'province'")
    assert set(vs.scenario) == {"demand", "capital"}
    vs = vs.query("scenario == 'demand'")
    assert set(vs.plan_year) == {2026}
    actual_closing = headline_figures(settings.landing_dir, date(2026, 12, 31))["outstanding_principal"]
    assert vs.actual_closing_principal.sum() == actual_closing
    planned = published(settings, "mart_credit_plan").query(
        "unit_level == 'province' and plan_year == 2026 and scenario == 'demand'"
    )
    assert vs.planned_closing_principal.sum() == planned.closing_principal.sum()
    with_plan = vs[vs.planned_closing_principal != 0]
    assert (
        with_plan.outstanding_completion == with_plan.actual_closing_principal / with_plan.planned_closing_principal
    ).all()


def test_with_more_capital_than_the_demand_needs_the_capital_led_plan_is_the_demand_plan(settings):
    # province 08 expects hundreds of billions a year (seeds/plan_capital_supply.csv): two communes need far less
    plan = published(settings, "mart_credit_plan")
    keys = ["unit_level", "province_code", "unit_code", "plan_year", "program_code", "funding_source"]
    led = {scenario: rows.set_index(keys).sort_index()[FIGURES] for scenario, rows in plan.groupby("scenario")}
    pd.testing.assert_frame_equal(led["capital"], led["demand"])
    capital = published(settings, "mart_plan_capital").query("unit_level == 'province'")
    assert not capital.capital_input_missing.any() and (capital.capital_gap < 0).all()
    assert (capital.unmet_demand == 0).all() and (capital.capital_used == capital.capital_needed).all()


CAPITAL_SHARE = 0.4  # of what the demand plan needs: the capital binds every year


def short_of_capital(settings: Settings, folder: Path) -> tuple[Path, dict[tuple[int, str], int]]:
    """A copy of the warehouse where province 08 expects 40 % of the new money its demand plan needs
    from each source each year, and no local capital in 2028, its plan rebuilt by dbt with the
    models' data tests: the copy and the capital by (year, source)."""
    copy = folder / settings.warehouse_path.name  # dbt's catalog is the file's name
    shutil.copy(settings.warehouse_path, copy)
    need = published(settings, "mart_plan_capital").query(
        "scenario == 'demand' and unit_level == 'province' and province_code == '08'"
    )
    capital = {
        (int(row.plan_year), row.funding_source): int(row.capital_needed * CAPITAL_SHARE)
        for row in need.itertuples()
        if (row.plan_year, row.funding_source) != (2028, "local")
    }
    with duckdb.connect(str(copy)) as conn:
        conn.execute("delete from main.plan_capital_supply where province_code = '08'")
        conn.executemany(
            "insert into main.plan_capital_supply (province_code, plan_year, funding_source, planned_new_capital_vnd) "
            "values ('08', ?, ?, ?)",
            [[year, source, amount] for (year, source), amount in capital.items()],
        )
    statuses = dbt_test_statuses(copy, folder / "target", ["int_plan__scenario_lending+"], command="build")
    assert statuses and set(statuses.values()) <= {"success", "pass"}, statuses
    return copy, capital


@pytest.fixture(scope="module")
def capital_short(settings, tmp_path_factory):
    return short_of_capital(settings, tmp_path_factory.mktemp("pcw_plan_capital"))


def largest_remainder(capital: int, excess: dict[tuple, int]) -> dict[tuple, int]:
    """`capital` shared pro rata to `excess`, in whole đồng, the leftover đồng to the largest remainders."""
    total = sum(excess.values())
    if capital >= total:
        return dict(excess)
    exact = {unit: Fraction(amount * capital, total) for unit, amount in excess.items()}
    shares = {unit: math.floor(share) for unit, share in exact.items()}
    by_remainder = sorted(exact, key=lambda unit: (-(exact[unit] - shares[unit]), unit))
    for unit in by_remainder[: capital - sum(shares.values())]:
        shares[unit] += 1
    return shares


def capital_led_plan(warehouse: Path, capital: dict[tuple[int, str], int]) -> pd.DataFrame:
    """The capital-led plan of province 08 recomputed in Python from the demand plan's inputs: each year
    a commune-program collects the scheduled repayments of the loans owing at the start and of its own
    earlier capital-led loans (times the collection rate) and the overdue and frozen debt recovered,
    relends up to its demand and gets its
    share of the capital for the demand beyond."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        demand = conn.sql("select * from main.int_plan__new_lending").df()
        existing = conn.sql("select * from main.int_plan__existing_collections").df()
        offices = conn.sql("select * from main.int_plan__commune_offices").df()
        owing = conn.sql("select * from main.int_plan__opening_balances where outstanding_principal <> 0").df()
    assumptions = pd.read_csv(SEEDS / "plan_assumptions.csv", dtype={"program_code": str}).set_index("program_code")
    unit = ["new_commune_code", "program_code", "funding_source"]
    in_08 = set(offices[offices.province_code == "08"].new_commune_code)
    demand = demand[demand.new_commune_code.isin(in_08)].set_index([*unit, "plan_year"]).new_disbursement
    existing = existing[existing.new_commune_code.isin(in_08)].set_index([*unit, "plan_year"])
    recovered = existing.recovered_overdue_principal + existing.recovered_frozen_principal
    existing = existing.scheduled_current_principal
    owing = owing[owing.new_commune_code.isin(in_08)]
    units = sorted({key[:3] for key in [*demand.index, *existing.index]} | set(owing[unit].itertuples(index=False)))
    lent: dict[tuple, dict[int, int]] = defaultdict(dict)
    rows = []
    for year in range(2026, 2031):
        collected, relent, excess = {}, {}, {}
        for u in units:
            terms = assumptions.loc[u[1]]
            repaid = [amount for earlier, amount in lent[u].items() if year - earlier <= terms.repayment_years]
            scheduled = float(existing.get((*u, year), 0)) + sum(amount / terms.repayment_years for amount in repaid)
            # overdue and frozen debt comes back at its recovery rates, not times the collection rate
            collected[u] = math.floor(scheduled * float(terms.collection_rate) + recovered.get((*u, year), 0) + 0.5)
            asked = int(demand.get((*u, year), 0))
            relent[u] = min(asked, collected[u])
            excess[u] = asked - relent[u]
        for source in ("central", "local"):
            from_source = {u: amount for u, amount in excess.items() if u[2] == source}
            shares = largest_remainder(capital.get((year, source), 0), from_source)
            for u in from_source:
                lent[u][year] = relent[u] + shares[u]
                rows.append((*u, year, collected[u], lent[u][year], int(demand.get((*u, year), 0))))
    return pd.DataFrame(rows, columns=[*unit, "plan_year", "collections", "new_disbursement", "demand_disbursement"])


def test_the_capital_led_plan_lends_what_collections_and_the_capital_fund(capital_short):
    copy, capital = capital_short
    with duckdb.connect(str(copy), read_only=True) as conn:
        plan = conn.sql("select * from main.mart_credit_plan where province_code = '08'").df()
        supply = conn.sql("select * from main.mart_plan_capital where province_code = '08'").df()
    expected = capital_led_plan(copy, capital)

    communes = plan.query("scenario == 'capital' and unit_level == 'commune'").rename(
        columns={"unit_code": "new_commune_code"}
    )
    keys = ["new_commune_code", "program_code", "funding_source", "plan_year"]
    merged = expected.merge(communes, on=keys, suffixes=("", "_mart"), validate="1:1")
    assert len(merged) == len(expected) == len(communes)
    for figure in ("collections", "new_disbursement", "demand_disbursement"):  # a remainder's đồng may go elsewhere
        assert (merged[figure] - merged[f"{figure}_mart"]).abs().max() <= 2, figure

    # the province lends its relending plus the capital to the đồng, when the capital binds
    province = plan.query("scenario == 'capital' and unit_level == 'province'")
    by_year = province.groupby(["plan_year", "funding_source"])[["net_new_lending", "unmet_demand"]].sum()
    for (year, source), amount in capital.items():
        if by_year.loc[(year, source)].unmet_demand > 0:
            assert by_year.loc[(year, source)].net_new_lending == amount
    assert by_year.xs("central", level="funding_source").unmet_demand.gt(0).all()  # 40 % binds
    totals = expected.groupby("plan_year")[["new_disbursement", "demand_disbursement"]].sum()
    mart_totals = province.groupby("plan_year")[["new_disbursement", "demand_disbursement", "unmet_demand"]].sum()
    assert (mart_totals.unmet_demand == mart_totals.demand_disbursement - mart_totals.new_disbursement).all()
    assert (mart_totals.new_disbursement - totals.new_disbursement).abs().max() <= 2 * len(expected)

    # a later year follows from the scenario's own earlier ones: less lent, less collected, lower balances
    led = province.groupby(["scenario", "plan_year"])[["collections", "closing_principal"]].sum()
    demand_led = (
        plan.query("scenario == 'demand' and unit_level == 'province'")
        .groupby("plan_year")[["collections", "closing_principal"]]
        .sum()
    )
    assert (led.loc["capital"].closing_principal < demand_led.closing_principal).all()
    assert led.loc["capital"].collections.loc[2027] < demand_led.collections.loc[2027]

    capital_rows = supply.query("unit_level == 'province' and scenario == 'capital'").set_index(
        ["plan_year", "funding_source"]
    )
    assert (capital_rows.capital_used <= capital_rows.capital_available.fillna(0)).all()
    assert (capital_rows.unmet_demand == capital_rows.capital_needed - capital_rows.capital_used).all()


def test_a_missing_capital_input_is_a_flagged_gap_never_a_pass(capital_short):
    copy, _ = capital_short  # province 08 has no local capital row for 2028
    with duckdb.connect(str(copy), read_only=True) as conn:
        supply = conn.sql("select * from main.mart_plan_capital where province_code = '08'").df()
        checks = conn.sql("select * from main.mart_credit_plan_checks where unit_level = 'province'").df()
        plan = conn.sql("select * from main.mart_credit_plan where scenario = 'capital' and plan_year = 2028").df()
    missing = supply[supply.capital_input_missing]
    assert set(zip(missing.plan_year, missing.funding_source)) == {(2028, "local")}
    assert missing.capital_available.isna().all() and (missing.capital_gap == missing.capital_needed).all()
    assert plan.query("funding_source == 'local'").net_new_lending.sum() == 0  # relending only

    flagged = checks[checks.local_entrustment_input_missing]
    assert set(zip(flagged.province_code, flagged.plan_year, flagged.scenario)) == {
        ("08", 2028, "demand"),
        ("08", 2028, "capital"),
    }
    assert flagged.misses_local_entrustment.all()
    gaps = checks[checks.capital_input_missing]
    assert set(zip(gaps.province_code, gaps.plan_year)) == {("08", 2028)} and len(gaps) == 2  # both scenarios


def test_the_workbook_sets_the_2026_actuals_beside_the_plan(settings, tmp_path):
    """The other sheets are tested on a sample without actuals (tests/test_plan_export.py)."""
    [workbook_path] = export_plan(settings.published_dir, "08", ["office", "province"], ["xlsx"], tmp_path, "capital")
    sheet = openpyxl.load_workbook(workbook_path)[VS_ACTUAL]
    rows = list(sheet.iter_rows(values_only=True))
    shown = [dict(zip(rows[0], row)) for row in rows[1:]]
    vs = published(settings, "mart_plan_vs_actual").query("scenario == 'capital' and province_code == '08'")
    for level, name in (("province", "tỉnh"), ("office", "phòng giao dịch")):
        expected = vs[vs.unit_level == level]
        [total] = [r for r in shown if r["Đơn vị"] == LEVEL_YEAR_TOTAL.format(name, 2026)]
        assert total["Dư nợ cuối năm thực hiện (triệu đồng)"] * 1e6 == pytest.approx(
            expected.actual_closing_principal.sum()
        )
        assert total["Dư nợ cuối năm kế hoạch (triệu đồng)"] * 1e6 == pytest.approx(
            expected.planned_closing_principal.sum()
        )
        assert total["Tỷ lệ hoàn thành dư nợ (%)"] == pytest.approx(
            expected.actual_closing_principal.sum() / expected.planned_closing_principal.sum()
        )
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.orientation == "landscape"


HOLD_THE_WAREHOUSE = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])  # a writer, as a load is
conn.execute("begin transaction; create table main.load_in_progress as select 1 as x")
print("holding", flush=True)
time.sleep(120)
"""


def test_an_export_works_while_a_load_holds_the_live_warehouse(settings, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WAREHOUSE, str(settings.warehouse_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # the live file is locked by the load
            duckdb.connect(str(settings.warehouse_path), read_only=True)
        written = export_plan(settings.published_dir, "08", ["province"], ["csv"], tmp_path)
    finally:
        holder.kill()
        holder.wait()
    province = pd.read_csv(written[0], sep=CSV_SEPARATOR, decimal=CSV_DECIMAL, encoding="utf-8-sig")
    assert province["Đơn vị"].iloc[0] == "Tỉnh Tuyên Quang"
    plan = published(settings, "mart_credit_plan").query("unit_level == 'province' and scenario == 'demand'")
    # whole millions in the CSV: each row within half a million of the mart
    closing = province["Dư nợ cuối năm (triệu đồng)"]
    assert closing.sum() == pytest.approx(plan.closing_principal.sum() / 1e6, abs=len(plan) / 2)


def communes_without_loans(landing_dir: Path) -> dict[str, str]:
    """Per branch (new province), a commune of it that none of the sample's loans can reach: the
    first new commune succeeding none of the old communes the sample has transaction points in."""
    sampled = pd.concat(
        pd.read_csv(p, dtype=str, encoding="utf-8-sig") for p in landing_dir.glob("transaction_points/*/*.csv")
    ).commune_code
    crosswalk = commune_crosswalk()
    reachable = crosswalk[crosswalk.old_commune_code.isin(sampled)].new_commune_code
    communes = new_communes()
    communes = communes[~communes.commune_code.isin(reachable)]
    return {
        branch.name: communes[communes.province_code == branch.name].commune_code.min()
        for branch in sorted((landing_dir / "demand_survey").iterdir())
    }


def survey_communes_without_loans(settings: Settings) -> None:
    """Each branch's survey also covers its commune without loans, with the demand of its first commune."""
    unserved = communes_without_loans(settings.landing_dir)
    for path in settings.landing_dir.glob("demand_survey/*/*.csv"):
        survey = pd.read_csv(path, dtype={"commune_code": str, "program_code": str}, encoding="utf-8-sig")
        first = survey[survey.commune_code == survey.commune_code.min()]
        survey = pd.concat([survey, first.assign(commune_code=unserved[path.parent.name])])
        survey.to_csv(path, index=False, encoding="utf-8-sig")
        rewrite_control(path)


def test_each_province_plans_its_communes_without_loans_under_its_own_unassigned_office(tmp_path_factory):
    settings, _ = build_sample_warehouse(
        tmp_path_factory, "pcw_plan_two_provinces", TWO_PROVINCES, survey_communes_without_loans
    )  # the build, dbt tests and all, succeeds
    plan = published(settings, "mart_credit_plan")
    unserved = communes_without_loans(settings.landing_dir)
    assert sorted(unserved) == ["08", "37"]

    communes = plan[plan.unit_level == "commune"]
    for province, commune in unserved.items():
        rows = communes[communes.unit_code == commune]
        assert set(zip(rows.province_code, rows.parent_unit_code)) == {(province, "UNASSIGNED")}
        assert rows.new_disbursement.sum() > 0

    offices = plan[(plan.unit_level == "office") & (plan.unit_code == "UNASSIGNED")]
    years = range(2026, 2031)
    assert set(zip(offices.province_code, offices.plan_year)) == {(p, y) for p in unserved for y in years}
    assert not offices.duplicated(["scenario", "province_code", "plan_year", "program_code", "funding_source"]).any()
    assert_children_sum_to_parents(plan)

    checks = published(settings, "mart_credit_plan_checks").query(
        "unit_level == 'office' and unit_code == 'UNASSIGNED'"
    )
    assert sorted(zip(checks.province_code, checks.plan_year, checks.scenario)) == [
        (p, y, s) for p in sorted(unserved) for y in years for s in ("capital", "demand")
    ]
