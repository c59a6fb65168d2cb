{{ config(meta={"dagster": {"ref": {"name": "mart_credit_plan"}}}) }}
-- In each scenario, every office's plan is the sum of its communes', every province's the sum of
-- its offices', for every year, program, funding source and figure. A parent is looked up in the child's province:
-- office codes repeat across provinces ('UNASSIGNED' is in each).
with children as (
    select
        scenario, province_code, parent_unit_code, unit_level, plan_year, program_code, funding_source,
        sum(opening_principal) as opening_principal,
        sum(collections) as collections,
        sum(new_disbursement) as new_disbursement,
        sum(closing_principal) as closing_principal,
        sum(planned_households) as planned_households
    from {{ ref('mart_credit_plan') }}
    where unit_level in ('commune', 'office')
    group by scenario, province_code, parent_unit_code, unit_level, plan_year, program_code, funding_source
)

select
    children.scenario, children.unit_level as child_level, children.province_code, children.parent_unit_code,
    children.plan_year, children.program_code, children.funding_source
from children
left join {{ ref('mart_credit_plan') }} as parents
    on parents.scenario = children.scenario and parents.province_code = children.province_code
    and parents.unit_code = children.parent_unit_code
    and parents.unit_level = case children.unit_level when 'commune' then 'office' else 'province' end
    and parents.plan_year = children.plan_year
    and parents.program_code = children.program_code
    and parents.funding_source = children.funding_source
where parents.unit_code is null
    or parents.opening_principal <> children.opening_principal
    or parents.collections <> children.collections
    or parents.new_disbursement <> children.new_disbursement
    or parents.closing_principal <> children.closing_principal
    or parents.planned_households <> children.planned_households
