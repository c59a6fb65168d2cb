{# The plan's scenarios: 'demand' lends the demand capped by program limits; 'capital' lends what
   each unit can fund, its own collections relent plus its share of the new capital its province
   expects (int_plan__scenario_lending). #}
{% macro plan_scenarios() %}{{ return(['demand', 'capital']) }}{% endmacro %}

{# The plan years as compile-time numbers: from the year after var plan_opening_date through var
   plan_last_year (a capital-led year depends on the years before it, so the model steps through them). #}
{% macro plan_year_range() %}
    {{ return(range((var('plan_opening_date')[:4] | int) + 1, (var('plan_last_year') | int) + 1) | list) }}
{% endmacro %}

{# A row per scenario, to cross join with. #}
{% macro plan_scenario_rows() %}
    {%- for s in plan_scenarios() %}select '{{ s }}' as scenario{{ ' union all ' if not loop.last }}{% endfor -%}
{% endmacro %}

{# The `prefix`_<year> column of the year `year_column` names, from a wide row of years. #}
{% macro plan_year_value(year_column, prefix, years) -%}
    case {{ year_column }}{% for y in years %} when {{ y }} then {{ prefix }}_{{ y }}{% endfor %} end
{%- endmacro %}

{# The capital-led rule, one plan year after another (int_plan__scenario_lending): CTEs
   collected_<year> … step_<n>, each adding that year's columns to the one before, from step_0 (one
   row per commune × program × funding source × scenario with demand_<year>, existing_<year>
   (scheduled repayments of the loans owing at the start), capital_<year> (the province's new
   capital from the row's source, null without an input), collection_rate and repayment_years).
   A year's collections depend on what the scenario lent in the years before it. #}
{% macro plan_scenario_years(years) %}
{%- for y in years %}
{%- set province = 'partition by scenario, province_code, funding_source' %}
collected_{{ y }} as (
    select
        *,
        cast(round(
            (
                existing_{{ y }}
                {%- for earlier in years if earlier < y %}
                + case
                    when {{ y - earlier }} <= repayment_years then cast(lent_{{ earlier }} as double) / repayment_years
                    else 0
                end
                {%- endfor %}
            )
            * coalesce(collection_rate, 1)
        ) as bigint) as collections_{{ y }}
    from step_{{ loop.index0 }}
),

excess_{{ y }} as (
    -- demand beyond what the commune relends
    select
        *,
        least(demand_{{ y }}, collections_{{ y }}) as relent_{{ y }},
        demand_{{ y }} - least(demand_{{ y }}, collections_{{ y }}) as excess_{{ y }}
    from collected_{{ y }}
),

shared_{{ y }} as (
    -- the capital shared pro rata to the excess over the province's communes and programs, up to it
    select
        *,
        case
            when capital_{{ y }} is null then 0
            when capital_{{ y }} >= sum(excess_{{ y }}) over ({{ province }}) then excess_{{ y }}
            else cast(excess_{{ y }} as double) * capital_{{ y }} / sum(excess_{{ y }}) over ({{ province }})
        end as exact_share_{{ y }},
        coalesce(capital_{{ y }}, 0) < sum(excess_{{ y }}) over ({{ province }}) as capital_short_{{ y }}
    from excess_{{ y }}
),

ranked_{{ y }} as (
    -- the đồng the floors leave over go one each to the largest remainders
    select
        *,
        cast(floor(exact_share_{{ y }}) as bigint) as floor_share_{{ y }},
        coalesce(capital_{{ y }}, 0)
        - sum(cast(floor(exact_share_{{ y }}) as bigint)) over ({{ province }}) as leftover_{{ y }},
        row_number() over (
            {{ province }}
            order by exact_share_{{ y }} - floor(exact_share_{{ y }}) desc, new_commune_code asc, program_code asc
        ) as remainder_rank_{{ y }}
    from shared_{{ y }}
),

allocated_{{ y }} as (
    select
        *,
        floor_share_{{ y }}
        + case when capital_short_{{ y }} and remainder_rank_{{ y }} <= leftover_{{ y }} then 1 else 0 end
            as allocated_{{ y }}
    from ranked_{{ y }}
),

step_{{ loop.index }} as (
    select
        *,
        case when scenario = 'demand' then demand_{{ y }} else relent_{{ y }} + allocated_{{ y }} end as lent_{{ y }}
    from allocated_{{ y }}
){{ ',' if not loop.last }}
{% endfor -%}
{% endmacro %}
