{{ config(meta={"dagster": {"ref": {"name": "mart_outstanding_balance"}}}) }}
-- outstanding = current + overdue + frozen, on every loan-month and every mart row.
select 'int_loan_balances__month_end' as model_name, as_of_date, outstanding_principal,
    current_principal, overdue_principal, frozen_principal
from {{ ref('int_loan_balances__month_end') }}
where outstanding_principal <> current_principal + overdue_principal + frozen_principal

union all

select 'mart_outstanding_balance' as model_name, as_of_date, outstanding_principal,
    current_principal, overdue_principal, frozen_principal
from {{ ref('mart_outstanding_balance') }}
where outstanding_principal <> current_principal + overdue_principal + frozen_principal
