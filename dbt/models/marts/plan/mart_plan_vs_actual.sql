-- Each scenario's plan against actual for every plan year the ledgers have reached: the outstanding
-- balance at the year's last month-end in the ledger and the year's disbursements, by unit, program
-- and funding source, at the plan's levels (the same actuals against each scenario). Completion =
-- actual / plan. Refreshed by every load. Units are keyed as in mart_credit_plan: level, province
-- and code (each province has its own 'UNASSIGNED' office).
with last_month_ends as (
    select extract(year from as_of_date) as plan_year, max(as_of_date) as as_of_date
    from {{ ref('mart_outstanding_balance') }}
    where extract(year from as_of_date) in (
            select distinct planned.plan_year from {{ ref('mart_credit_plan') }} as planned
        )
    group by extract(year from as_of_date)
),

actual_outstanding as (
    select
        last_month_ends.plan_year, last_month_ends.as_of_date, balances.new_commune_code,
        balances.program_code, balances.funding_source, sum(balances.outstanding_principal) as actual_closing_principal
    from {{ ref('mart_outstanding_balance') }} as balances
    inner join last_month_ends on last_month_ends.as_of_date = balances.as_of_date
    group by
        last_month_ends.plan_year, last_month_ends.as_of_date, balances.new_commune_code,
        balances.program_code, balances.funding_source
),

actual_disbursed as (
    select
        extract(year from transactions.transaction_date) as plan_year, loan_communes.new_commune_code,
        loans.program_code, loans.funding_source,
        sum(case when transactions.transaction_type = 'disbursement' then transactions.principal_amount
            else -transactions.principal_amount
        end) as actual_disbursement
    from {{ ref('stg_branch__transactions') }} as transactions
    inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = transactions.loan_id
    inner join {{ ref('int_loans__new_commune') }} as loan_communes on loan_communes.loan_id = transactions.loan_id
    where transactions.transaction_type in ('disbursement', 'disbursement_reversal')
        and extract(year from transactions.transaction_date) in (select last_month_ends.plan_year from last_month_ends)
    group by
        extract(year from transactions.transaction_date),
        loan_communes.new_commune_code,
        loans.program_code,
        loans.funding_source
),

commune_actuals as (
    select
        coalesce(o.plan_year, d.plan_year) as plan_year,
        coalesce(o.new_commune_code, d.new_commune_code) as new_commune_code,
        coalesce(o.program_code, d.program_code) as program_code,
        coalesce(o.funding_source, d.funding_source) as funding_source,
        coalesce(o.actual_closing_principal, 0) as actual_closing_principal,
        coalesce(d.actual_disbursement, 0) as actual_disbursement
    from actual_outstanding as o
    full outer join actual_disbursed as d
        on d.plan_year = o.plan_year and d.new_commune_code = o.new_commune_code
        and d.program_code = o.program_code and d.funding_source = o.funding_source
),

located as (
    select commune_actuals.*, offices.province_code, offices.transaction_office_code
    from commune_actuals
    inner join
        {{ ref('int_plan__commune_offices') }} as offices
        on offices.new_commune_code = commune_actuals.new_commune_code
),

actual_levels as (
    {{ plan_unit_levels('located', ['plan_year', 'program_code', 'funding_source'],
                        ['actual_closing_principal', 'actual_disbursement']) }}
),

scenarios as (
    {{ plan_scenario_rows() }}
),

actual_scenarios as (
    select actual_levels.*, scenarios.scenario
    from actual_levels
    cross join scenarios
),

plans as (
    select plans.*
    from {{ ref('mart_credit_plan') }} as plans
    where plans.plan_year in (select last_month_ends.plan_year from last_month_ends)
)

select
    coalesce(plans.scenario, actual_levels.scenario) as scenario,
    coalesce(plans.unit_level, actual_levels.unit_level) as unit_level,
    coalesce(plans.province_code, actual_levels.province_code) as province_code,
    coalesce(plans.unit_code, actual_levels.unit_code) as unit_code,
    coalesce(plans.plan_year, actual_levels.plan_year) as plan_year,
    coalesce(plans.program_code, actual_levels.program_code) as program_code,
    coalesce(plans.funding_source, actual_levels.funding_source) as funding_source,
    coalesce(plans.closing_principal, 0) as planned_closing_principal,
    coalesce(actual_levels.actual_closing_principal, 0) as actual_closing_principal,
    case when plans.closing_principal <> 0
            then cast(coalesce(actual_levels.actual_closing_principal, 0) as double) / plans.closing_principal
    end as outstanding_completion,
    coalesce(plans.new_disbursement, 0) as planned_disbursement,
    coalesce(actual_levels.actual_disbursement, 0) as actual_disbursement,
    case when plans.new_disbursement <> 0
            then cast(coalesce(actual_levels.actual_disbursement, 0) as double) / plans.new_disbursement
    end as disbursement_completion
from plans
full outer join actual_scenarios as actual_levels
    on actual_levels.scenario = plans.scenario and actual_levels.unit_level = plans.unit_level
    and actual_levels.province_code = plans.province_code
    and actual_levels.unit_code = plans.unit_code
    and actual_levels.plan_year = plans.plan_year and actual_levels.program_code = plans.program_code
    and actual_levels.funding_source = plans.funding_source
