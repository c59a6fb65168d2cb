"""The interest rates a loan may carry, resolved from the rate seeds (docs/domain.md §1.2).

One rule: a rate is the poor-household base rate in force (`seeds/base_rates.csv`) times a share
of it, or a rate set outright where the government sets one that is no exact share (9 %, 3 %), valid
from / to. The cases are data:

- `program_rates.csv`: each program's rate, anywhere, for any borrower;
- `special_rates.csv`: a program's rate in the communes of an area list (`rate_area_communes.csv`,
  e.g. the poorest "30a" districts) or for borrowers of a category (`borrower_categories.csv`);
- `local_program_rates.csv`: the rates a province sets for the programs of its own budget (99).

`prepare_allowed_rates` makes `rule_allowed_rates`, one row per rate allowed, where and for whom;
the loans' row rule (rules.py) and the sample generator both read it. A list's communes are
named in the scheme of their time: old codes name loans before the 2025 reorganisation and their
successors (the crosswalk) loans after it; a province's rate holds in its communes of that scheme.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from dagster_project.domain.landing_contract import REORGANISATION_DATE
from dagster_project.settings import SEEDS_DIR

RATE_SEEDS: dict[str, dict[str, str]] = {
    "base_rates": {
        "valid_from": "DATE",
        "valid_to": "DATE",
        "base_annual_rate_pct": "DECIMAL(7,4)",
        "note": "VARCHAR",
    },
    "program_rates": {
        "program_code": "VARCHAR",
        "valid_from": "DATE",
        "valid_to": "DATE",
        "share_of_base_rate": "DECIMAL(5,2)",
        "annual_rate_pct": "DECIMAL(7,4)",
        "note": "VARCHAR",
    },
    "special_rates": {
        "program_code": "VARCHAR",
        "valid_from": "DATE",
        "valid_to": "DATE",
        "share_of_base_rate": "DECIMAL(5,2)",
        "annual_rate_pct": "DECIMAL(7,4)",
        "area_list": "VARCHAR",
        "borrower_category": "VARCHAR",
        "note": "VARCHAR",
    },
    "rate_area_communes": {
        "area_list": "VARCHAR",
        "scheme": "VARCHAR",
        "commune_code": "VARCHAR",
        "valid_from": "DATE",
        "valid_to": "DATE",
        "note": "VARCHAR",
    },
    "local_program_rates": {
        "province_code": "VARCHAR",
        "scheme": "VARCHAR",
        "program_code": "VARCHAR",
        "valid_from": "DATE",
        "valid_to": "DATE",
        "annual_rate_pct": "DECIMAL(7,4)",
        "note": "VARCHAR",
    },
}

_NEW_FROM = f"date '{REORGANISATION_DATE.isoformat()}'"
_OLD_TO = f"date '{(REORGANISATION_DATE - timedelta(days=1)).isoformat()}'"


def _era(scheme: str, valid_from: str, valid_to: str) -> str:
    """SQL: a period clipped to the era whose codes `scheme` ('old' / 'new') names."""
    return (
        f"case when {scheme} = 'new' then greatest({valid_from}, {_NEW_FROM}) else {valid_from} end as valid_from, "
        f"case when {scheme} = 'old' then least({valid_to}, {_OLD_TO}) else {valid_to} end as valid_to"
    )


def _allowed_rates_sql(old_communes: str, new_communes: str, crosswalk: str) -> str:
    return f"""
    create or replace temp table rule_allowed_rates as
    with cases as (
        select program_code, valid_from, valid_to, share_of_base_rate, annual_rate_pct, 'program' as scope,
               cast(null as varchar) as area_list, cast(null as varchar) as borrower_category,
               cast(null as varchar) as province_code, cast(null as varchar) as scheme,
               'the program''s rate' as allowed_as
        from rule_program_rates
        union all
        select program_code, valid_from, valid_to, share_of_base_rate, annual_rate_pct,
               case when area_list is not null then 'area' else 'borrower' end,
               area_list, borrower_category, null, null,
               case when area_list is not null then 'in the communes of area list ' || area_list
                    else 'for borrowers of category ' || borrower_category end
        from rule_special_rates
        union all
        select program_code, valid_from, valid_to, null, annual_rate_pct, 'province', null, null,
               province_code, scheme, 'set by province ' || province_code
        from rule_local_program_rates
    ),

    -- a share of the base rate in force, or the rate set outright; a case spanning a change of the
    -- base rate splits at it
    resolved as (
        select c.program_code, c.scope, c.area_list, c.borrower_category, c.province_code, c.scheme, c.allowed_as,
               greatest(c.valid_from, b.valid_from) as valid_from, least(c.valid_to, b.valid_to) as valid_to,
               cast(coalesce(c.annual_rate_pct, b.base_annual_rate_pct * c.share_of_base_rate) as decimal(7, 4))
                   as annual_rate_pct
        from cases as c
        inner join rule_base_rates as b on b.valid_from <= c.valid_to and c.valid_from <= b.valid_to
    ),

    area_communes as (
        select area_list, commune_code, {_era("scheme", "valid_from", "valid_to")}
        from rule_rate_area_communes
        union all
        select a.area_list, s.new_commune_code, greatest(a.valid_from, {_NEW_FROM}), a.valid_to
        from rule_rate_area_communes as a
        inner join {crosswalk} as s on s.old_commune_code = a.commune_code
        where a.scheme = 'old'
    ),

    province_communes as (
        select 'old' as scheme, commune_code, province_code, date '0001-01-01' as valid_from, {_OLD_TO} as valid_to
        from {old_communes}
        union all
        select 'new', commune_code, province_code, {_NEW_FROM}, date '9999-12-31' from {new_communes}
    ),

    allowed as (
        select program_code, valid_from, valid_to, annual_rate_pct, cast(null as varchar) as commune_code,
               borrower_category, scope, allowed_as
        from resolved where scope in ('program', 'borrower')
        union all
        select r.program_code, greatest(r.valid_from, a.valid_from), least(r.valid_to, a.valid_to),
               r.annual_rate_pct, a.commune_code, null, r.scope, r.allowed_as
        from resolved as r inner join area_communes as a on a.area_list = r.area_list
        where r.scope = 'area'
        union all
        select r.program_code, greatest(r.valid_from, p.valid_from), least(r.valid_to, p.valid_to),
               r.annual_rate_pct, p.commune_code, null, r.scope, r.allowed_as
        from resolved as r
        inner join province_communes as p on p.scheme = r.scheme and p.province_code = r.province_code
        where r.scope = 'province'
    )

    select distinct * from allowed where valid_from <= valid_to
    """


def prepare_allowed_rates(
    conn: duckdb.DuckDBPyConnection,
    old_communes: str = "raw.admin_units_old",
    new_communes: str = "raw.admin_units_new",
    crosswalk: str = "raw.admin_unit_crosswalk",
) -> None:
    """`rule_allowed_rates` (program_code, valid_from, valid_to, annual_rate_pct, commune_code,
    borrower_category, scope, allowed_as): a null commune or category allows it anywhere, to anyone.
    The communes and crosswalk are tables or views with the columns of admin_units.py."""
    for name, types in RATE_SEEDS.items():
        conn.execute(
            f"create or replace temp table rule_{name} as "
            f"select * from read_csv(?, header = true, columns = {types!r})",
            [str(SEEDS_DIR / f"{name}.csv")],
        )
    conn.execute(_allowed_rates_sql(old_communes, new_communes, crosswalk))


def special_rate_categories(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The borrower categories a special rate names (after `prepare_allowed_rates`)."""
    rows = conn.execute(
        "select distinct borrower_category from rule_allowed_rates where borrower_category is not null order by 1"
    ).fetchall()
    return [category for (category,) in rows]
