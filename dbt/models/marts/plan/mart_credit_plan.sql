-- The 2026–2030 credit plan at every level planners work on: each new commune, its Transaction
-- Office (the sum of its communes) and the province (the sum of its offices), by program and
-- funding source. Growth is recomputed from the summed balances at each level. A unit is its level,
-- province and code: an office code need not be unique across provinces ('UNASSIGNED' is in each),
-- so an office is its province's office of that code, and a commune's parent_unit_code names an
-- office of the commune's own province. Each scenario is a plan of its own (int_plan__scenario_lending).
-- New disbursements include relending (collections lent again): net new lending is the rest.
{% set amounts = ['opening_principal', 'collections', 'demand_disbursement', 'new_disbursement', 'relending',
                  'capital_allocated', 'closing_principal', 'capital_needed', 'overdue_at_plan_start',
                  'planned_households', 'planned_beneficiaries'] %}
with levels as (
    {{ plan_unit_levels(ref('int_plan__commune_years'), ['scenario', 'plan_year', 'program_code', 'funding_source'],
                        amounts) }}
),

unit_names as (
    select distinct 'commune' as unit_level, commune_code as unit_code, commune_name as unit_name
    from {{ ref('stg_admin__new_communes') }}
    union all
    select distinct 'province', province_code, province_name from {{ ref('stg_admin__new_communes') }}
    union all
    select 'office', transaction_office_code, max(transaction_office_name)
    from {{ ref('stg_branch__transaction_points') }}
    group by transaction_office_code
)

select
    levels.scenario,
    levels.unit_level,
    levels.unit_code,
    coalesce(unit_names.unit_name, levels.unit_code) as unit_name,
    levels.parent_unit_code,
    levels.plan_year,
    levels.province_code,
    levels.program_code,
    programs.program_name_vi as program_name,
    levels.funding_source,
    {#- bigint on every engine (DuckDB sums to a 128-bit integer): the contract's types #}
    {% for a in amounts %}cast(levels.{{ a }} as bigint) as {{ a }},
    {% endfor %}cast(levels.demand_disbursement - levels.new_disbursement as bigint) as unmet_demand,
    cast(levels.new_disbursement - levels.relending as bigint) as net_new_lending,
    case when levels.opening_principal <> 0
            then cast(levels.closing_principal - levels.opening_principal as double) / levels.opening_principal
    end as growth_rate
from levels
left join unit_names on unit_names.unit_level = levels.unit_level and unit_names.unit_code = levels.unit_code
left join {{ ref('programs') }} as programs on programs.program_code = levels.program_code
