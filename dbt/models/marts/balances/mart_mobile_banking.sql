-- Borrowers with outstanding loans at each month end and how many are registered for mobile
-- banking (the register's flag as at its export).
with borrowers_owing as (
    select distinct b.as_of_date, loans.new_commune_code, loans.borrower_key, loans.borrower_mobile_banking
    from {{ recomputed(ref('int_loan_balances__month_end')) }} as b
    inner join {{ ref('int_loan_attributes') }} as loans on loans.loan_id = b.loan_id
    where b.outstanding_principal > 0
)

select
    o.as_of_date,
    o.new_commune_code,
    count(*) as borrowers_with_outstanding,
    sum(case when o.borrower_mobile_banking then 1 else 0 end) as borrowers_with_mobile_banking,
    cast(sum(case when o.borrower_mobile_banking then 1 else 0 end) as decimal(38, 12))
    / count(*) as mobile_banking_rate
from borrowers_owing as o
group by o.as_of_date, o.new_commune_code
