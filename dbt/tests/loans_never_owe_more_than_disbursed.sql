{{ config(meta={"dagster": {"ref": {"name": "int_loan_balances__month_end"}}}) }}
-- A loan never owes more principal than it was lent: more means a ledger row counted twice or a
-- movement in the wrong direction. One row per loan that does, with its highest month-end balance.
select balances.loan_id, loans.loan_amount, max(balances.outstanding_principal) as peak_outstanding
from {{ ref('int_loan_balances__month_end') }} as balances
inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = balances.loan_id
group by balances.loan_id, loans.loan_amount
having max(balances.outstanding_principal) > loans.loan_amount
