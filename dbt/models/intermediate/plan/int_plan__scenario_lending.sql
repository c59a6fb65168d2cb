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
-- depend on what the scenario lent before, so the model steps year by year (macro plan_year_range):
-- one wide row per commune-program-source-scenario with each year's figures, unpivoted at the end.
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
    {% for s in plan_scenarios() %}select '{{ s }}' as scenario{{ ' union all ' if not loop.last }}{% endfor %}
),

demand as (
    select
        new_commune_code, program_code, funding_source,
        {% for y in years %}sum(case when plan_year = {{ y }} then new_disbursement else 0 end) as demand_{{ y }}
        {{- ',' if not loop.last }}
        {% endfor %}
    from {{ ref('int_plan__new_lending') }}
    group by new_commune_code, program_code, funding_source
),

existing as (
    select
        new_commune_code, program_code, funding_source,
        {% for y in years %}sum(case when plan_year = {{ y }} then scheduled_principal else 0 end) as existing_{{ y }}
        {{- ',' if not loop.last }}
        {% endfor %}
    from {{ ref('int_plan__existing_collections') }}
    group by new_commune_code, program_code, funding_source
),

capital as (
    -- null where the province has no capital row for the year and source
    select
        province_code, funding_source,
        {% for y in years %}sum(case when plan_year = {{ y }} then planned_new_capital_vnd end) as capital_{{ y }}
        {{- ',' if not loop.last }}
        {% endfor %}
    from {{ ref('plan_capital_supply') }}
    group by province_code, funding_source
),

step_0 as (
    select
        units.new_commune_code, units.program_code, units.funding_source, offices.province_code,
        scenarios.scenario, assumptions.collection_rate, assumptions.repayment_years,
        {% for y in years %}coalesce(demand.demand_{{ y }}, 0) as demand_{{ y }},
        coalesce(existing.existing_{{ y }}, 0) as existing_{{ y }},
        capital.capital_{{ y }}{{ ',' if not loop.last }}
        {% endfor %}
    from units
    inner join {{ ref('int_plan__commune_offices') }} as offices on offices.new_commune_code = units.new_commune_code
    cross join scenarios
    left join demand
        on demand.new_commune_code = units.new_commune_code and demand.program_code = units.program_code
        and demand.funding_source = units.funding_source
    left join existing
        on existing.new_commune_code = units.new_commune_code and existing.program_code = units.program_code
        and existing.funding_source = units.funding_source
    left join capital on capital.province_code = offices.province_code and capital.funding_source = units.funding_source
    left join {{ ref('plan_assumptions') }} as assumptions on assumptions.program_code = units.program_code
),

{% for y in years %}
{%- set partition = 'partition by scenario, province_code, funding_source' %}
{%- set excess = '(demand_' ~ y ~ ' - least(demand_' ~ y ~ ', collections_' ~ y ~ '))' %}
{%- set exact_share = 'cast(' ~ excess ~ ' as double) * capital_' ~ y ~ ' / province_excess_' ~ y %}
collected_{{ y }} as (
    select
        step_{{ loop.index0 }}.*,
        cast(round(
            (existing_{{ y }}
                {%- for earlier in years if earlier < y %}
                + case when {{ y - earlier }} <= repayment_years
                    then cast(lent_{{ earlier }} as double) / repayment_years else 0 end
                {%- endfor %})
            * coalesce(collection_rate, 1)
        ) as bigint) as collections_{{ y }}
    from step_{{ loop.index0 }}
),

shared_{{ y }} as (
    -- demand beyond what the commune relends, summed over the province's communes and programs
    select
        collected_{{ y }}.*,
        sum({{ excess }}) over ({{ partition }}) as province_excess_{{ y }}
    from collected_{{ y }}
),

floored_{{ y }} as (
    select
        shared_{{ y }}.*,
        case
            when capital_{{ y }} is null then 0
            when capital_{{ y }} >= province_excess_{{ y }} then {{ excess }}
            else cast(floor({{ exact_share }}) as bigint)
        end as floor_share_{{ y }}
    from shared_{{ y }}
),

ranked_{{ y }} as (
    -- the đồng the floors leave over go one each to the largest remainders
    select
        floored_{{ y }}.*,
        coalesce(capital_{{ y }}, 0) - sum(floor_share_{{ y }}) over ({{ partition }}) as leftover_{{ y }},
        row_number() over (
            {{ partition }}
            order by case when capital_{{ y }} < province_excess_{{ y }}
                    then {{ exact_share }} - floor_share_{{ y }} else 0 end desc,
            new_commune_code asc, program_code asc
        ) as remainder_rank_{{ y }}
    from floored_{{ y }}
),

allocated_{{ y }} as (
    select
        ranked_{{ y }}.*,
        floor_share_{{ y }} + case
            when capital_{{ y }} < province_excess_{{ y }} and remainder_rank_{{ y }} <= leftover_{{ y }} then 1 else 0
        end as allocated_{{ y }}
    from ranked_{{ y }}
),

step_{{ loop.index }} as (
    select
        allocated_{{ y }}.*,
        case when scenario = 'demand' then demand_{{ y }}
            else least(demand_{{ y }}, collections_{{ y }}) + allocated_{{ y }}
        end as lent_{{ y }}
    from allocated_{{ y }}
),
{% endfor %}

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
    {% for column, prefix in [('demand_disbursement', 'demand'), ('collections', 'collections'),
                              ('new_disbursement', 'lent'), ('capital_allocated', 'allocated')] -%}
    case plan_years.plan_year
        {% for y in years %}when {{ y }} then planned.{{ prefix }}_{{ y }} {% endfor %}
    end as {{ column }},
    {% endfor -%}
    case plan_years.plan_year
        {% for y in years %}when {{ y }} then planned.capital_{{ y }} is null {% endfor %}
    end as capital_input_missing
from step_{{ years | length }} as planned
inner join plan_years on plan_years.plan_year between {{ years[0] }} and {{ years[-1] }}
