{{ config(meta={"dagster": {"ref": {"name": "mart_outstanding_balance"}}}) }}
-- Restating history on the 2025 communes neither creates nor loses a đồng: at every month-end of
-- the ledger's span, each bucket summed over the mart equals the net movements of that bucket
-- over every ledger row dated on or before the month-end. Returns the months that differ.
with monthly_net as (
    select
        month_end_date,
        sum(current_movement) as current_net,
        sum(overdue_movement) as overdue_net,
        sum(frozen_movement) as frozen_net
    from {{ ref('stg_branch__transactions') }}
    group by month_end_date
),

month_ends as (
    select spine.month_end_date
    from ({{ month_end_spine() }}) as spine
    where spine.month_end_date >= (select min(month_end_date) from monthly_net)
        and spine.month_end_date <= (select max(month_end_date) from monthly_net)
),

ledger as (
    select
        month_ends.month_end_date as as_of_date,
        sum(monthly_net.current_net) as current_principal,
        sum(monthly_net.overdue_net) as overdue_principal,
        sum(monthly_net.frozen_net) as frozen_principal,
        sum(monthly_net.current_net + monthly_net.overdue_net + monthly_net.frozen_net) as outstanding_principal
    from month_ends
    inner join monthly_net
        on monthly_net.month_end_date <= month_ends.month_end_date
    group by month_ends.month_end_date
),

mart as (
    select
        as_of_date,
        sum(current_principal) as current_principal,
        sum(overdue_principal) as overdue_principal,
        sum(frozen_principal) as frozen_principal,
        sum(outstanding_principal) as outstanding_principal
    from {{ ref('mart_outstanding_balance') }}
    group by as_of_date
)

select
    coalesce(ledger.as_of_date, mart.as_of_date) as as_of_date,
    ledger.outstanding_principal as ledger_outstanding,
    mart.outstanding_principal as mart_outstanding,
    ledger.current_principal as ledger_current,
    mart.current_principal as mart_current,
    ledger.overdue_principal as ledger_overdue,
    mart.overdue_principal as mart_overdue,
    ledger.frozen_principal as ledger_frozen,
    mart.frozen_principal as mart_frozen
from ledger
full outer join mart
    on mart.as_of_date = ledger.as_of_date
where coalesce(ledger.outstanding_principal, 0) <> coalesce(mart.outstanding_principal, 0)
    or coalesce(ledger.current_principal, 0) <> coalesce(mart.current_principal, 0)
    or coalesce(ledger.overdue_principal, 0) <> coalesce(mart.overdue_principal, 0)
    or coalesce(ledger.frozen_principal, 0) <> coalesce(mart.frozen_principal, 0)
