{{ config(meta={"dagster": {"ref": {"name": "mart_outstanding_balance"}}}) }}
-- Restating history on the 2025 communes neither creates nor loses a đồng: for every month-end,
-- the mart's outstanding equals the ledger's net principal movements up to that day.
with monthly_net as (
    select month_end_date, sum(current_movement + overdue_movement + frozen_movement) as net_movement
    from {{ ref('stg_branch__transactions') }}
    group by month_end_date
),

ledger as (
    select
        month_end_date as as_of_date,
        sum(net_movement) over (order by month_end_date rows between unbounded preceding and current row) as outstanding
    from monthly_net
),

mart as (
    select as_of_date, sum(outstanding_principal) as outstanding
    from {{ ref('mart_outstanding_balance') }}
    group by as_of_date
)

select ledger.as_of_date, ledger.outstanding as ledger_outstanding, mart.outstanding as mart_outstanding
from ledger
left join mart on mart.as_of_date = ledger.as_of_date
where coalesce(mart.outstanding, 0) <> ledger.outstanding
