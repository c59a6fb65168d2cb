-- Outstanding balance at each month-end on the 2025 communes, by program and organisation.
select
    balances.as_of_date,
    new_communes.province_code,
    loan_communes.new_commune_code,
    new_communes.commune_name as new_commune_name,
    loans.program_code,
    coalesce(loans.organisation_code, 'DIRECT') as organisation_code,
    sum(balances.current_principal) as current_principal,
    sum(balances.overdue_principal) as overdue_principal,
    sum(balances.frozen_principal) as frozen_principal,
    sum(balances.outstanding_principal) as outstanding_principal,
    count(distinct case when balances.outstanding_principal > 0 then balances.loan_id end) as loans_with_outstanding,
    count(distinct case when balances.outstanding_principal > 0 then loans.borrower_key end) as borrowers_with_outstanding,
    sum(case when loan_communes.is_allocated then balances.outstanding_principal else 0 end) as allocated_principal
from {{ ref('int_loan_balances__month_end') }} as balances
inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = balances.loan_id
inner join {{ ref('int_loans__new_commune') }} as loan_communes on loan_communes.loan_id = balances.loan_id
inner join {{ ref('stg_admin__new_communes') }} as new_communes on new_communes.commune_code = loan_communes.new_commune_code
group by
    balances.as_of_date,
    new_communes.province_code,
    loan_communes.new_commune_code,
    new_communes.commune_name,
    loans.program_code,
    coalesce(loans.organisation_code, 'DIRECT')
