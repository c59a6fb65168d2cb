-- The credit plan of each new commune, program, funding source and plan year. Closing outstanding
-- is the opening balance plus every plan year's new disbursements less collections so far, so no
-- year depends on a recursive step: collections are the scheduled repayments of the loans owing
-- at the opening date, and of the plan's own new loans (evenly over the program's
-- repayment_years from the year after), each times the program's collection rate.
with opening as (
    select new_commune_code, program_code, funding_source, outstanding_principal, overdue_principal
    from {{ ref('int_plan__opening_balances') }}
),

plan_years as (
    select distinct plan_year from {{ ref('stg_branch__demand_survey') }}
),

units as (
    select new_commune_code, program_code, funding_source from opening
    where outstanding_principal <> 0
    union
    select new_commune_code, program_code, funding_source from {{ ref('int_plan__new_lending') }}
    union
    select new_commune_code, program_code, funding_source from {{ ref('int_plan__existing_collections') }}
),

unit_years as (
    select units.new_commune_code, units.program_code, units.funding_source, plan_years.plan_year
    from units
    cross join plan_years
),

new_loan_collections as (
    select
        later.new_commune_code,
        later.program_code,
        later.funding_source,
        later.plan_year,
        sum(cast(earlier.new_disbursement as double) / assumptions.repayment_years) as scheduled_principal
    from unit_years as later
    inner join {{ ref('int_plan__new_lending') }} as earlier
        on earlier.new_commune_code = later.new_commune_code
        and earlier.program_code = later.program_code
        and earlier.funding_source = later.funding_source
        and earlier.plan_year < later.plan_year
    inner join {{ ref('plan_assumptions') }} as assumptions on assumptions.program_code = later.program_code
    where later.plan_year - earlier.plan_year <= assumptions.repayment_years
    group by later.new_commune_code, later.program_code, later.funding_source, later.plan_year
),

flows as (
    select
        unit_years.new_commune_code,
        unit_years.program_code,
        unit_years.funding_source,
        unit_years.plan_year,
        coalesce(opening.outstanding_principal, 0) as plan_opening_principal,
        coalesce(opening.overdue_principal, 0) as plan_opening_overdue,
        coalesce(lending.new_disbursement, 0) as new_disbursement,
        coalesce(lending.planned_households, 0) as planned_households,
        coalesce(lending.planned_beneficiaries, 0) as planned_beneficiaries,
        cast(round(
            (coalesce(existing.scheduled_principal, 0) + coalesce(new_loans.scheduled_principal, 0))
            * coalesce(assumptions.collection_rate, 1)
        ) as bigint) as collections
    from unit_years
    left join opening
        on opening.new_commune_code = unit_years.new_commune_code
        and opening.program_code = unit_years.program_code
        and opening.funding_source = unit_years.funding_source
    left join {{ ref('int_plan__new_lending') }} as lending
        on lending.new_commune_code = unit_years.new_commune_code
        and lending.program_code = unit_years.program_code
        and lending.funding_source = unit_years.funding_source
        and lending.plan_year = unit_years.plan_year
    left join {{ ref('int_plan__existing_collections') }} as existing
        on existing.new_commune_code = unit_years.new_commune_code
        and existing.program_code = unit_years.program_code
        and existing.funding_source = unit_years.funding_source
        and existing.plan_year = unit_years.plan_year
    left join new_loan_collections as new_loans
        on new_loans.new_commune_code = unit_years.new_commune_code
        and new_loans.program_code = unit_years.program_code
        and new_loans.funding_source = unit_years.funding_source
        and new_loans.plan_year = unit_years.plan_year
    left join {{ ref('plan_assumptions') }} as assumptions on assumptions.program_code = unit_years.program_code
),

running as (
    select
        flows.*,
        flows.plan_opening_principal + sum(flows.new_disbursement - flows.collections) over (
            partition by flows.new_commune_code, flows.program_code, flows.funding_source order by flows.plan_year
            rows between unbounded preceding and current row
        ) as closing_principal
    from flows
)

select
    running.plan_year,
    offices.province_code,
    offices.transaction_office_code,
    running.new_commune_code,
    running.program_code,
    running.funding_source,
    running.closing_principal - running.new_disbursement + running.collections as opening_principal,
    running.collections,
    running.new_disbursement,
    least(running.collections, running.new_disbursement) as relending,
    running.closing_principal,
    running.new_disbursement - running.collections as capital_needed,
    running.plan_opening_overdue as overdue_at_plan_start,
    running.planned_households,
    running.planned_beneficiaries
from running
inner join {{ ref('int_plan__commune_offices') }} as offices on offices.new_commune_code = running.new_commune_code
