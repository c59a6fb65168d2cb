-- One row per loan: everything the loan × month-end models key a loan's months on or compute them
-- with (where it sits on the 2025 map, program, organisation, rates, due dates, its borrower's flags
-- and a digest of its repayment schedule). The loan-month models read a loan's attributes from here
-- and nowhere else, so that the recompute contract (models/recompute/) sees every change: when a
-- row here changes, every month of that loan is recomputed.
with schedules as (
    select
        loan_id,
        count(*) as scheduled_instalments,
        sum(principal_due) as scheduled_principal,
        -- moves with any instalment's due date or amount
        sum(principal_due * {{ dbt.datediff("cast('2000-01-01' as date)", 'due_date', 'day') }})
            as scheduled_principal_days
    from {{ ref('stg_branch__loan_schedules') }}
    group by loan_id
),

overdue_rate_multiplier as (
    select rule_value as multiplier from {{ ref('rate_rules') }}
    where rule_code = 'overdue_rate_multiplier'
)

select
    loans.loan_id,
    loans.borrower_key,
    loans.group_id,
    coalesce(loans.organisation_code, 'DIRECT') as organisation_code,
    loans.program_code,
    loans.funding_source,
    loan_communes.transaction_point_id,
    loan_communes.transaction_office_code,
    loan_communes.new_commune_code,
    new_communes.commune_name as new_commune_name,
    new_communes.province_code,
    new_communes.province_name,
    loan_communes.is_allocated,
    loans.contract_due_date,
    loans.annual_rate,
    loans.annual_rate * multiplier.multiplier as overdue_annual_rate,
    coalesce(borrowers.left_residence, false) as borrower_left_residence,
    coalesce(borrowers.mobile_banking, false) as borrower_mobile_banking,
    coalesce(schedules.scheduled_instalments, 0) as scheduled_instalments,
    coalesce(schedules.scheduled_principal, 0) as scheduled_principal,
    coalesce(schedules.scheduled_principal_days, 0) as scheduled_principal_days,
    -- no month of the loan lies before the month it was disbursed in
    {{ dbt.last_day('loans.disbursement_date', 'month') }} as first_month_end
from {{ ref('stg_branch__loans') }} as loans
cross join overdue_rate_multiplier as multiplier
inner join {{ ref('int_loans__new_commune') }} as loan_communes on loan_communes.loan_id = loans.loan_id
inner join {{ ref('stg_admin__new_communes') }} as new_communes
    on new_communes.commune_code = loan_communes.new_commune_code
left join {{ ref('stg_branch__borrowers') }} as borrowers on borrowers.borrower_id = loans.borrower_id
left join schedules on schedules.loan_id = loans.loan_id
