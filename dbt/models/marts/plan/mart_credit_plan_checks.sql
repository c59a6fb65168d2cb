-- Each scenario's unit plan year against the strategy's targets (Decision 05/QĐ-TTg, seeds/plan_strategy_targets.csv):
-- growth near the target, projected overdue below the ceiling, local capital's share of outstanding
-- on a straight path from the plan's start to its 2030 target, and (at province level, where the
-- entrustment plan is) the local budget entrusting its share of the growth: a province-year with
-- no local row in seeds/plan_capital_supply.csv misses it, flagged as input missing (no plan is
-- known to meet it). A unit is its level, province and code, as in mart_credit_plan (each province
-- has its own 'UNASSIGNED' office).
with targets as (
    select
        max(case when target_code = 'outstanding_growth' then target_value end) as growth_target,
        max(case when target_code = 'outstanding_growth_tolerance' then target_value end) as growth_tolerance,
        max(case when target_code = 'max_overdue_ratio' then target_value end) as max_overdue_ratio,
        max(case when target_code = 'min_local_entrustment_of_growth' then target_value end) as min_local_entrustment,
        max(case when target_code = 'local_capital_share_by_2030' then target_value end) as local_share_2030
    from {{ ref('plan_strategy_targets') }}
),

units as (
    select
        scenario, unit_level, unit_code, province_code, plan_year,
        sum(opening_principal) as opening_principal,
        sum(closing_principal) as closing_principal,
        sum(case when funding_source = 'local' then closing_principal else 0 end) as local_closing_principal,
        sum(overdue_at_plan_start) as overdue_at_plan_start
    from {{ ref('mart_credit_plan') }}
    group by scenario, unit_level, unit_code, province_code, plan_year
),

starts as (
    -- local capital's share when the plan starts: the first plan year's opening balances
    select
        plans.scenario, plans.unit_level, plans.province_code, plans.unit_code,
        case when sum(plans.opening_principal) <> 0
                then cast(
                        sum(case when plans.funding_source = 'local' then plans.opening_principal else 0 end) as double
                    ) / sum(plans.opening_principal)
            else 0
        end as local_share_at_start
    from {{ ref('mart_credit_plan') }} as plans
    where plans.plan_year = (select min(first_year.plan_year) from {{ ref('mart_credit_plan') }} as first_year)
    group by plans.scenario, plans.unit_level, plans.province_code, plans.unit_code
),

entrustment as (
    select province_code, plan_year, sum(planned_new_capital_vnd) as planned_local_capital
    from {{ ref('plan_capital_supply') }}
    where funding_source = 'local'
    group by province_code, plan_year
),

measured as (
    select
        units.*,
        case when units.opening_principal <> 0
                then cast(units.closing_principal - units.opening_principal as double) / units.opening_principal
        end as growth_rate,
        case when units.closing_principal <> 0
                then cast(units.overdue_at_plan_start as double) / units.closing_principal
            else 0
        end as projected_overdue_ratio,
        case when units.closing_principal <> 0
                then cast(units.local_closing_principal as double) / units.closing_principal
            else 0
        end as local_capital_share,
        units.unit_level = 'province' and entrustment.province_code is null as local_entrustment_input_missing,
        starts.local_share_at_start
        + (targets.local_share_2030 - starts.local_share_at_start) * (units.plan_year - 2025) / 5.0
            as local_capital_share_target,
        case when units.unit_level = 'province' and units.closing_principal > units.opening_principal
                then cast(entrustment.planned_local_capital as double)
                    / (units.closing_principal - units.opening_principal)
        end
            as local_entrustment_of_growth,
        targets.growth_target, targets.growth_tolerance, targets.max_overdue_ratio, targets.min_local_entrustment
    from units
    cross join targets
    inner join starts
        on starts.scenario = units.scenario and starts.unit_level = units.unit_level
        and starts.province_code = units.province_code
        and starts.unit_code = units.unit_code
    left join entrustment on entrustment.province_code = units.unit_code and entrustment.plan_year = units.plan_year
)

select
    scenario, unit_level, unit_code, province_code, plan_year,
    opening_principal, closing_principal, growth_rate,
    projected_overdue_ratio, local_capital_share, local_capital_share_target, local_entrustment_of_growth,
    coalesce(abs(growth_rate - growth_target) > growth_tolerance, true) as misses_growth_target,
    projected_overdue_ratio >= max_overdue_ratio as misses_overdue_ceiling,
    local_capital_share < local_capital_share_target as misses_local_capital_path,
    local_entrustment_input_missing
    or coalesce(local_entrustment_of_growth < min_local_entrustment, false) as misses_local_entrustment,
    local_entrustment_input_missing
from measured
