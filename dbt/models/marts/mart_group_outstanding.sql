-- Outstanding balance of each Savings and Loan Group at each month-end, by program and funding
-- source: what a group board and its organisation follow up. Loans lent directly have no group.
select
    balances.as_of_date,
    loans.group_id,
    loans.organisation_code,
    groups.new_commune_code,
    points.transaction_office_code,
    loans.program_code,
    loans.funding_source,
    sum(balances.current_principal) as current_principal,
    sum(balances.overdue_principal) as overdue_principal,
    sum(balances.frozen_principal) as frozen_principal,
    sum(balances.outstanding_principal) as outstanding_principal,
    count(distinct case when balances.outstanding_principal > 0 then loans.borrower_key end) as borrowers_with_outstanding
from {{ ref('int_loan_balances__month_end') }} as balances
inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = balances.loan_id
inner join {{ ref('int_groups__new_commune') }} as groups on groups.group_id = loans.group_id
left join {{ ref('stg_branch__transaction_points') }} as points on points.transaction_point_id = groups.transaction_point_id
group by
    balances.as_of_date,
    loans.group_id,
    loans.organisation_code,
    groups.new_commune_code,
    points.transaction_office_code,
    loans.program_code,
    loans.funding_source
