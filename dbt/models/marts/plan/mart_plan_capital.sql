-- The capital each unit can expect against the new money its plan needs, by scenario, plan year
-- and funding source (mart_credit_plan's units and levels, all programs together). A province has
-- the capital it expects (seeds/plan_capital_supply.csv); an office or commune the share of it
-- the plan allocates to it, never more than its demand beyond its relending (the capital the
-- demand needs beyond it stays at the province). Without a capital row for the province, year and
-- source, the capital is unknown: flagged, and the whole need is a gap.
with units as (
    select
        scenario, unit_level, province_code, unit_code, parent_unit_code, plan_year, funding_source,
        max(unit_name) as unit_name,
        sum(demand_disbursement - relending) as capital_needed,
        sum(net_new_lending) as capital_used,
        sum(capital_allocated) as capital_allocated,
        sum(unmet_demand) as unmet_demand
    from {{ ref('mart_credit_plan') }}
    group by scenario, unit_level, province_code, unit_code, parent_unit_code, plan_year, funding_source
),

supply as (
    select province_code, plan_year, funding_source, sum(planned_new_capital_vnd) as planned_new_capital
    from {{ ref('plan_capital_supply') }}
    group by province_code, plan_year, funding_source
),

available as (
    select
        units.*,
        supply.province_code is null as capital_input_missing,
        case
            when supply.province_code is null then cast(null as bigint)
            when units.unit_level = 'province' then supply.planned_new_capital
            else units.capital_allocated
        end as capital_available
    from units
    left join supply
        on supply.province_code = units.province_code and supply.plan_year = units.plan_year
        and supply.funding_source = units.funding_source
)

select
    scenario,
    unit_level,
    province_code,
    unit_code,
    parent_unit_code,
    unit_name,
    plan_year,
    funding_source,
    cast(capital_available as bigint) as capital_available,
    cast(capital_needed as bigint) as capital_needed,
    cast(capital_used as bigint) as capital_used,
    cast(capital_needed - coalesce(capital_available, 0) as bigint) as capital_gap,
    cast(unmet_demand as bigint) as unmet_demand,
    capital_input_missing
from available
