-- Principal the loans owing at the plan's opening date will repay in each plan year, by commune ×
-- program × funding source. Current debt follows the schedule: a loan's instalments due after the
-- opening date count until they reach its current principal, and current principal beyond them is
-- already due and falls in the first plan year. Overdue and frozen debt has no schedule left: it is
-- recovered over the plan years at the rates of seed plan_recovery_rates (a documented assumption,
-- docs/domain.md §4.1), by how late the overdue debt is (seed overdue_aging_buckets) or frozen.
with opening_loans as (
    select
        state.loan_id,
        state.new_commune_code,
        state.program_code,
        state.funding_source,
        state.current_principal,
        state.overdue_principal,
        state.frozen_principal,
        state.days_past_due
    from {{ ref('int_loan_state__month_end') }} as state
    where state.as_of_date = cast('{{ var("plan_opening_date") }}' as date)
        and state.outstanding_principal > 0
),

plan_years as (
    select
        plan_year,
        plan_year - extract(year from cast('{{ var("plan_opening_date") }}' as date)) as plan_year_number
    from (select distinct plan_year from {{ ref('stg_branch__demand_survey') }}) as survey_years
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
        opening_loans.current_principal,
        opening_loans.current_principal
        - least(opening_loans.current_principal, coalesce(sum(future_instalments.principal_due), 0)) as already_due
    from opening_loans
    left join future_instalments on future_instalments.loan_id = opening_loans.loan_id
    group by opening_loans.loan_id, opening_loans.current_principal
),

loan_years as (
    select
        loan_totals.loan_id,
        plan_years.plan_year,
        loan_totals.current_principal,
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

-- a loan repays what it owes, no more
scheduled_current as (
    select
        loan_id,
        plan_year,
        least(due_through_year, current_principal)
        - least(
            coalesce(lag(due_through_year) over (partition by loan_id order by plan_year), 0),
            current_principal
        ) as principal
    from loan_years
),

current_cells as (
    select
        opening_loans.new_commune_code,
        opening_loans.program_code,
        opening_loans.funding_source,
        scheduled_current.plan_year,
        sum(scheduled_current.principal) as scheduled_current_principal
    from scheduled_current
    inner join opening_loans on opening_loans.loan_id = scheduled_current.loan_id
    group by
        opening_loans.new_commune_code, opening_loans.program_code, opening_loans.funding_source,
        scheduled_current.plan_year
),

-- the opening overdue debt by its days-past-due bucket, and the frozen debt, summed per cell
debt_in_arrears as (
    select
        opening_loans.new_commune_code,
        opening_loans.program_code,
        opening_loans.funding_source,
        buckets.aging_bucket as debt_class,
        opening_loans.overdue_principal as principal
    from opening_loans
    inner join {{ ref('overdue_aging_buckets') }} as buckets
        on opening_loans.days_past_due >= buckets.min_days_past_due
        and (buckets.max_days_past_due is null or opening_loans.days_past_due <= buckets.max_days_past_due)
    where opening_loans.overdue_principal > 0
    union all
    select new_commune_code, program_code, funding_source, 'frozen' as debt_class, frozen_principal as principal
    from opening_loans
    where frozen_principal > 0
),

arrears_cells as (
    select
        debt.new_commune_code,
        debt.program_code,
        debt.funding_source,
        plan_years.plan_year,
        sum(case when debt.debt_class = 'frozen' then 0 else debt.principal * rates.recovery_rate end)
            as recovered_overdue,
        sum(case when debt.debt_class = 'frozen' then debt.principal * rates.recovery_rate else 0 end)
            as recovered_frozen
    from debt_in_arrears as debt
    inner join {{ ref('plan_recovery_rates') }} as rates on rates.debt_class = debt.debt_class
    inner join plan_years on plan_years.plan_year_number = rates.plan_year_number
    group by debt.new_commune_code, debt.program_code, debt.funding_source, plan_years.plan_year
),

cells as (
    select new_commune_code, program_code, funding_source, plan_year from current_cells
    union
    select new_commune_code, program_code, funding_source, plan_year from arrears_cells
),

collections as (
    select
        cells.new_commune_code,
        cells.program_code,
        cells.funding_source,
        cells.plan_year,
        coalesce(current_cells.scheduled_current_principal, 0) as scheduled_current_principal,
        cast(round(coalesce(arrears_cells.recovered_overdue, 0), 0) as bigint) as recovered_overdue_principal,
        cast(round(coalesce(arrears_cells.recovered_frozen, 0), 0) as bigint) as recovered_frozen_principal
    from cells
    left join current_cells
        on current_cells.new_commune_code = cells.new_commune_code
        and current_cells.program_code = cells.program_code
        and current_cells.funding_source = cells.funding_source
        and current_cells.plan_year = cells.plan_year
    left join arrears_cells
        on arrears_cells.new_commune_code = cells.new_commune_code
        and arrears_cells.program_code = cells.program_code
        and arrears_cells.funding_source = cells.funding_source
        and arrears_cells.plan_year = cells.plan_year
)

select
    new_commune_code,
    program_code,
    funding_source,
    plan_year,
    scheduled_current_principal,
    recovered_overdue_principal,
    recovered_frozen_principal,
    scheduled_current_principal + recovered_overdue_principal + recovered_frozen_principal as scheduled_principal
from collections
