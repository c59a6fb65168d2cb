"""The plan as the exports read it: the published copies of the marts (publish.py), never the live
warehouse file, so an export works while a load is writing it. Amounts stay in VND here; the
writers turn them into what a planner reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from dagster_project.outputs.fingerprint import ROW_FINGERPRINT
from dagster_project.outputs.plan.labels import AMOUNTS, LEVEL_NAMES, LEVELS, SOURCE_NAMES
from dagster_project.settings import SEEDS_DIR
from dagster_project.warehouse.publish import MARTS_LINK, published_mart

PLAN_MARTS = (
    "mart_credit_plan",
    "mart_credit_plan_checks",
    "mart_plan_vs_actual",
    "mart_plan_capital",
    "mart_outstanding_balance",
)


@dataclass(frozen=True)
class Snapshot:
    """What the export was made from, for its cover sheet."""

    province_code: str
    province_name: str
    scenario: str
    opening_date: date  # the plan opens on the balances of this month-end
    data_as_of: date | None  # the last month-end of the province's ledgers
    generated_at: datetime
    published_version: str  # the published marts' folder the export read
    fingerprint: str  # rows and content of those marts, as `pcw fingerprint` hashes tables


def mart(published_dir: Path, name: str) -> str:
    return str(published_mart(published_dir, name))


def has_mart(published_dir: Path, name: str) -> bool:
    return published_mart(published_dir, name).exists()


def provinces(published_dir: Path) -> dict[str, str]:
    """code -> name of the provinces the published plan holds."""
    return dict(
        duckdb.sql(
            "select distinct unit_code, unit_name from read_parquet(?) where unit_level = 'province'",
            params=[mart(published_dir, "mart_credit_plan")],
        ).fetchall()
    )


def scenarios(published_dir: Path) -> set[str]:
    return {
        s
        for (s,) in duckdb.sql(
            "select distinct scenario from read_parquet(?)", params=[mart(published_dir, "mart_credit_plan")]
        ).fetchall()
    }


def plan_rows(published_dir: Path, province: str, level: str, scenario: str) -> pd.DataFrame:
    """One level of one province's plan under `scenario`, in the mart's own columns, with the
    name of each commune's office; sorted as the sheets list them."""
    return duckdb.sql(
        """
        select plan.*, coalesce(offices.unit_name, plan.parent_unit_code) as office_name
        from read_parquet($plan) as plan
        left join (
            select distinct province_code, unit_code, unit_name from read_parquet($plan) where unit_level = 'office'
        ) as offices
            on plan.unit_level = 'commune' and offices.province_code = plan.province_code
            and offices.unit_code = plan.parent_unit_code
        where plan.unit_level = $level and plan.province_code = $province and plan.scenario = $scenario
        order by plan.plan_year, office_name, plan.unit_name, plan.unit_code, plan.program_code, plan.funding_source
        """,
        params={
            "plan": mart(published_dir, "mart_credit_plan"),
            "level": level,
            "province": province,
            "scenario": scenario,
        },
    ).df()


def checks(published_dir: Path, province: str, levels: list[str], scenario: str) -> pd.DataFrame:
    """The Decision 05 checks of the province's units at `levels`, with the targets they are held to."""
    frame = duckdb.sql(
        """
        select checks.*, names.unit_name
        from read_parquet($checks) as checks
        left join (
            select distinct unit_level, province_code, unit_code, unit_name from read_parquet($plan)
        ) as names using (unit_level, province_code, unit_code)
        where checks.province_code = $province and checks.unit_level in (select unnest($levels))
            and checks.scenario = $scenario
        order by checks.unit_code, checks.plan_year
        """,
        params={
            "checks": mart(published_dir, "mart_credit_plan_checks"),
            "plan": mart(published_dir, "mart_credit_plan"),
            "province": province,
            "levels": levels,
            "scenario": scenario,
        },
    ).df()
    return by_level(frame)


def plan_vs_actual(published_dir: Path, province: str, levels: list[str], scenario: str) -> pd.DataFrame:
    frame = duckdb.sql(
        """
        select vs.*, names.unit_name, programs.program_name
        from read_parquet($vs) as vs
        left join (
            select distinct unit_level, province_code, unit_code, unit_name from read_parquet($plan)
        ) as names using (unit_level, province_code, unit_code)
        left join (select distinct program_code, program_name from read_parquet($plan)) as programs using (program_code)
        where vs.province_code = $province and vs.unit_level in (select unnest($levels)) and vs.scenario = $scenario
        order by vs.plan_year, vs.unit_code, vs.program_code, vs.funding_source
        """,
        params={
            "vs": mart(published_dir, "mart_plan_vs_actual"),
            "plan": mart(published_dir, "mart_credit_plan"),
            "province": province,
            "levels": levels,
            "scenario": scenario,
        },
    ).df()
    return by_level(frame)


def capital(published_dir: Path, province: str, levels: list[str], scenario: str) -> pd.DataFrame:
    """Capital available against capital needed and the demand left unmet, by unit, year and source."""
    frame = duckdb.sql(
        "select * from read_parquet($capital) where province_code = $province "
        "and unit_level in (select unnest($levels)) and scenario = $scenario "
        "order by plan_year, unit_code, funding_source",
        params={
            "capital": mart(published_dir, "mart_plan_capital"),
            "province": province,
            "levels": levels,
            "scenario": scenario,
        },
    ).df()
    return by_level(frame)


def by_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Province first, then offices, then communes, each named in Vietnamese."""
    frame["level_name"] = frame.unit_level.map(LEVEL_NAMES)
    order = frame.unit_level.map({level: i for i, level in enumerate(LEVELS)})
    return (
        frame.assign(_order=order)
        .sort_values(["_order", "unit_code", "plan_year"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def trajectory(published_dir: Path, province: str) -> pd.DataFrame:
    """Year-end outstanding of the province: actual (December month-ends of the ledgers), then each
    scenario's plan, which starts from the balance it opens on (the last actual year-end)."""
    return duckdb.sql(
        """
        select cast(extract(year from as_of_date) as integer) as year, 'actual' as series,
            sum(outstanding_principal) as outstanding
        from read_parquet($balances)
        where province_code = $province and extract(month from as_of_date) = 12
        group by 1
        union all
        select min(plan_year) - 1, scenario, sum(opening_principal) from read_parquet($plan) as p
        where unit_level = 'province' and unit_code = $province
            and plan_year = (select min(plan_year) from read_parquet($plan))
        group by scenario
        union all
        select plan_year, scenario, sum(closing_principal) from read_parquet($plan)
        where unit_level = 'province' and unit_code = $province
        group by plan_year, scenario
        order by 2, 1
        """,
        params={
            "balances": mart(published_dir, "mart_outstanding_balance"),
            "plan": mart(published_dir, "mart_credit_plan"),
            "province": province,
        },
    ).df()


def by_program(published_dir: Path, province: str, scenario: str) -> pd.DataFrame:
    """Closing outstanding by program in the last plan year with actuals (actual null in the plan's
    first year when no actual year has been loaded yet)."""
    vs = plan_vs_actual(published_dir, province, ["province"], scenario)
    if len(vs):
        year = vs.plan_year.max()
        rows = (
            vs[vs.plan_year == year]
            .groupby("program_name", as_index=False)[["planned_closing_principal", "actual_closing_principal"]]
            .sum()
        )
        return rows.rename(columns={"planned_closing_principal": "plan", "actual_closing_principal": "actual"}).assign(
            plan_year=year
        )
    plan = plan_rows(published_dir, province, "province", scenario)
    year = plan.plan_year.min()
    rows = plan[plan.plan_year == year].groupby("program_name", as_index=False).closing_principal.sum()
    return rows.rename(columns={"closing_principal": "plan"}).assign(actual=float("nan"), plan_year=year)


def scenario_comparison(published_dir: Path, province: str) -> pd.DataFrame:
    """By plan year, the province's closing outstanding, new lending and unmet demand under each
    scenario: columns `<figure>_<scenario>`."""
    frame = duckdb.sql(
        "select plan_year, scenario, sum(closing_principal) as closing_principal, "
        "sum(new_disbursement) as new_disbursement, sum(unmet_demand) as unmet_demand from read_parquet(?) "
        "where unit_level = 'province' and unit_code = ? group by all",
        params=[mart(published_dir, "mart_credit_plan"), province],
    ).df()
    wide = frame.pivot(index="plan_year", columns="scenario")
    wide.columns = [f"{figure}_{scenario}" for figure, scenario in wide.columns]
    return wide.sort_index()


def unit_year_totals(rows: pd.DataFrame) -> pd.DataFrame:
    """Each unit's year over its programs and sources, growth recomputed from the summed balances."""
    totals = rows.groupby(["plan_year", "unit_code", "unit_name"], as_index=False)[AMOUNTS].sum()
    return with_growth(totals)


def with_growth(frame: pd.DataFrame) -> pd.DataFrame:
    opening = frame.opening_principal.where(frame.opening_principal != 0)
    return frame.assign(growth_rate=(frame.closing_principal - frame.opening_principal) / opening)


def snapshot(published_dir: Path, province: str, province_name: str, scenario: str) -> Snapshot:
    plan = mart(published_dir, "mart_credit_plan")
    [(first_year,)] = duckdb.sql("select min(plan_year) from read_parquet(?)", params=[plan]).fetchall()
    [(as_of,)] = duckdb.sql(
        "select max(as_of_date) from read_parquet(?) where province_code = ?",
        params=[mart(published_dir, "mart_outstanding_balance"), province],
    ).fetchall()
    return Snapshot(
        province_code=province,
        province_name=province_name,
        scenario=scenario,
        opening_date=date(int(first_year) - 1, 12, 31),
        data_as_of=as_of,
        generated_at=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0),
        published_version=(published_dir / MARTS_LINK).resolve().name,
        fingerprint=marts_fingerprint(published_dir),
    )


def marts_fingerprint(published_dir: Path) -> str:
    """The rows and an order-free content hash of each published mart the plan is read from, as
    `pcw fingerprint` takes them of tables, folded into one short digest."""
    parts = []
    for name in PLAN_MARTS:
        if has_mart(published_dir, name):
            rows, content = duckdb.sql(
                f"select {ROW_FINGERPRINT} from read_parquet(?) as r", params=[mart(published_dir, name)]
            ).fetchone()
            parts.append(f"{name}:{rows}:{content}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def assumptions(province: str) -> dict[str, pd.DataFrame]:
    """The plan's assumptions as the build reads them: the repository's seeds (the published marts
    carry their results, not the seeds themselves)."""
    programs = pd.read_csv(SEEDS_DIR / "programs.csv", dtype=str)[["program_code", "program_name_vi"]]
    rates = pd.read_csv(SEEDS_DIR / "plan_assumptions.csv", dtype={"program_code": str}).merge(
        programs, on="program_code", how="left"
    )
    supply = pd.read_csv(SEEDS_DIR / "plan_capital_supply.csv", dtype={"province_code": str})
    supply = supply[supply.province_code == province].assign(
        funding_source=lambda s: s.funding_source.map(SOURCE_NAMES).fillna(s.funding_source)
    )
    targets = pd.read_csv(SEEDS_DIR / "plan_strategy_targets.csv")
    return {"rates": rates, "supply": supply, "targets": targets}


def strategy_targets() -> dict[str, float]:
    targets = pd.read_csv(SEEDS_DIR / "plan_strategy_targets.csv")
    return dict(zip(targets.target_code, targets.target_value))
