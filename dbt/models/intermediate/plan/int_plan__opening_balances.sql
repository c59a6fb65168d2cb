-- What the plan opens with: the balances at var plan_opening_date of the loans on each new commune,
-- program and funding source (the same loans and cells mart_outstanding_balance sums that month-end).
select
    loans.new_commune_code,
    loans.program_code,
    loans.funding_source,
    sum(balances.outstanding_principal) as outstanding_principal,
    sum(balances.overdue_principal) as overdue_principal
from {{ ref('int_loan_balances__month_end') }} as balances
inner join {{ ref('int_loan_attributes') }} as loans on loans.loan_id = balances.loan_id
where balances.as_of_date = cast('{{ var("plan_opening_date") }}' as date)
group by loans.new_commune_code, loans.program_code, loans.funding_source
