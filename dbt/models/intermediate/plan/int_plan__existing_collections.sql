-- Principal the loans owing at the plan's opening date are scheduled to repay in each plan year,
-- by commune × program × funding source. A loan repays what it owes, no more: its instalments due
-- after the opening date count until they reach its balance, and what it owes beyond them is
-- already due and falls in the first plan year.
with opening_loans as (
    select balances.loan_id, balances.outstanding_principal
    from {{ ref('int_loan_balances__month_end') }} as balances
    where balances.as_of_date = cast('{{ var("plan_opening_date") }}' as date)
        and balances.outstanding_principal > 0
),

future_instalments as (
    select
        schedules.loan_id,
        extract(year from schedules.due_date) as plan_year,
        sum(schedules.principal_due) as principal_due
    from {{ ref('stg_branch__loan_schedules') }} as schedules
    inner join opening_loans on opening_loans.loan_id = schedules.loan_id
    where schedules.due_date > cast('{{ var("plan_opening_date") }}' as date)
    group by schedules.loan_id, extract(year from schedules.due_date)
),

loan_totals as (
    select
        opening_loans.loan_id,
        opening_loans.outstanding_principal,
        opening_loans.outstanding_principal
        - least(opening_loans.outstanding_principal, coalesce(sum(future_instalments.principal_due), 0)) as already_due
    from opening_loans
    left join future_instalments on future_instalments.loan_id = opening_loans.loan_id
    group by opening_loans.loan_id, opening_loans.outstanding_principal
),

plan_years as (
    select distinct plan_year from {{ ref('stg_branch__demand_survey') }}
),

loan_years as (
    select
        loan_totals.loan_id,
        plan_years.plan_year,
        loan_totals.outstanding_principal,
        loan_totals.already_due
        + sum(coalesce(future_instalments.principal_due, 0)) over (
            partition by loan_totals.loan_id order by plan_years.plan_year
            rows between unbounded preceding and current row
        ) as due_through_year
    from loan_totals
    cross join plan_years
    left join future_instalments
        on future_instalments.loan_id = loan_totals.loan_id and future_instalments.plan_year = plan_years.plan_year
),

capped as (
    select
        loan_id,
        plan_year,
        least(due_through_year, outstanding_principal)
        - least(
            coalesce(lag(due_through_year) over (partition by loan_id order by plan_year), 0),
            outstanding_principal
        ) as scheduled_principal
    from loan_years
)

select
    loan_communes.new_commune_code,
    loans.program_code,
    loans.funding_source,
    capped.plan_year,
    sum(capped.scheduled_principal) as scheduled_principal
from capped
inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = capped.loan_id
inner join {{ ref('int_loans__new_commune') }} as loan_communes on loan_communes.loan_id = capped.loan_id
group by loan_communes.new_commune_code, loans.program_code, loans.funding_source, capped.plan_year
