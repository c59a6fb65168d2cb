-- What each commune lends by program, funding source and plan year, in each scenario, and what it
-- collects. Collections are the scheduled repayments of the loans owing at the opening date and of
-- the scenario's own new loans (evenly over the program's repayment_years from the year after),
-- times the program's collection rate.
-- 'demand' lends the demand (int_plan__new_lending). 'capital' lends what the commune can fund: its
-- collections relent (up to its demand) plus its share of the new capital its province expects
-- from that source that year (seeds/plan_capital_supply.csv). The capital is shared pro rata to
-- each commune-program's demand beyond what it relends, never above it, in whole đồng by largest
-- remainder, so the shares add up to the capital to the đồng (or to the demand, when the capital is
-- more). A province-year-source with no capital row gets no new capital. Collections in one year
-- depend on what the scenario lent before, so the model steps year by year (macro
-- plan_scenario_years): one wide row per commune-program-source-scenario with each year's figures,
-- unpivoted at the end.
{% set years = plan_year_range() %}
with units as (
    select new_commune_code, program_code, funding_source from {{ ref('int_plan__opening_balances') }}
    where outstanding_principal <> 0
    union
    select new_commune_code, program_code, funding_source from {{ ref('int_plan__new_lending') }}
    union
    select new_commune_code, program_code, funding_source from {{ ref('int_plan__existing_collections') }}
),

scenarios as (
    {{ plan_scenario_rows() }}
),

demand as (
    select
        new_commune_code,
        program_code,
        {% for y in years %}sum(case when plan_year = {{ y }} then new_disbursement else 0 end) as demand_{{ y }},
        {% endfor %}funding_source
    from {{ ref('int_plan__new_lending') }}
    group by new_commune_code, program_code, funding_source
),

existing as (
    -- the schedule is met at the collection rate; overdue and frozen debt comes back at its own
    -- recovery rates (already in scheduled_principal beyond the current part)
    select
        new_commune_code,
        program_code,
        {% for y in years %}sum(case when plan_year = {{ y }} then on_schedule else 0 end) as existing_{{ y }},
        {% endfor %}{% for y in years %}sum(case when plan_year = {{ y }} then recovered end) as recovered_{{ y }},
        {% endfor %}funding_source
    from (
        select
            new_commune_code,
            program_code,
            funding_source,
            plan_year,
            scheduled_current_principal as on_schedule,
            scheduled_principal - scheduled_current_principal as recovered
        from {{ ref('int_plan__existing_collections') }}
    ) as collections
    group by new_commune_code, program_code, funding_source
),

capital as (
    -- null where the province has no capital row for the year and source
    select
        province_code,
        {% for y in years %}sum(case when plan_year = {{ y }} then planned_new_capital_vnd end) as capital_{{ y }},
        {% endfor %}funding_source
    from {{ ref('plan_capital_supply') }}
    group by province_code, funding_source
),

step_0 as (
    select
        units.new_commune_code,
        units.program_code,
        units.funding_source,
        offices.province_code,
        scenarios.scenario,
        assumptions.collection_rate,
        {% for y in years %}coalesce(demand.demand_{{ y }}, 0) as demand_{{ y }},
        {% endfor %}{% for y in years %}coalesce(existing.existing_{{ y }}, 0) as existing_{{ y }},
        {% endfor %}{% for y in years %}coalesce(existing.recovered_{{ y }}, 0) as recovered_{{ y }},
        {% endfor %}{% for y in years %}capital.capital_{{ y }},
        {% endfor %}assumptions.repayment_years
    from units
    inner join {{ ref('int_plan__commune_offices') }} as offices
        on offices.new_commune_code = units.new_commune_code
    cross join scenarios
    left join demand
        on demand.new_commune_code = units.new_commune_code and demand.program_code = units.program_code
        and demand.funding_source = units.funding_source
    left join existing
        on existing.new_commune_code = units.new_commune_code and existing.program_code = units.program_code
        and existing.funding_source = units.funding_source
    left join capital
        on capital.province_code = offices.province_code and capital.funding_source = units.funding_source
    left join {{ ref('plan_assumptions') }} as assumptions on assumptions.program_code = units.program_code
),
{{ plan_scenario_years(years) }},

plan_years as (
    select distinct plan_year from {{ ref('stg_branch__demand_survey') }}
)

select
    planned.new_commune_code,
    planned.program_code,
    planned.funding_source,
    planned.province_code,
    planned.scenario,
    plan_years.plan_year,
    {{ plan_year_value('plan_years.plan_year', 'planned.demand', years) }} as demand_disbursement,
    {{ plan_year_value('plan_years.plan_year', 'planned.collections', years) }} as collections,
    {{ plan_year_value('plan_years.plan_year', 'planned.lent', years) }} as new_disbursement,
    {{ plan_year_value('plan_years.plan_year', 'planned.allocated', years) }} as capital_allocated,
    {{ plan_year_value('plan_years.plan_year', 'planned.capital', years) }} is null as capital_input_missing
from step_{{ years | length }} as planned
inner join plan_years on plan_years.plan_year between {{ years[0] }} and {{ years[-1] }}
