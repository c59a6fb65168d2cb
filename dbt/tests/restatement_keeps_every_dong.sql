{{ config(meta={"dagster": {"ref": {"name": "mart_outstanding_balance"}}}) }}
-- Restating history on the 2025 communes neither creates nor loses a đồng: for every month-end
-- and province, the mart's outstanding equals the ledger's net principal movements up to that
-- day, each movement counted in the province of the commune its own row carries (old communes
-- through the crosswalk: provinces merged whole in 2025, so any successor names the province).
with commune_months as (
    select
        month_end_date,
        commune_era,
        commune_code,
        sum(current_movement + overdue_movement + frozen_movement) as net_movement
    from {{ ref('stg_branch__transactions') }}
    group by month_end_date, commune_era, commune_code
),

-- the era decides in the select, not in the joins: a join condition on one side only makes a nested-loop join
monthly_net as (
    select
        commune_months.month_end_date,
        case
            when commune_months.commune_era = 'new' then new_communes.province_code
            else successor_communes.province_code
        end as province_code,
        sum(commune_months.net_movement) as net_movement
    from commune_months
    left join {{ ref('stg_admin__new_communes') }} as new_communes
        on new_communes.commune_code = commune_months.commune_code
    left join {{ ref('stg_admin__commune_crosswalk') }} as crosswalk
        on crosswalk.old_commune_code = commune_months.commune_code and crosswalk.is_default_successor
    left join {{ ref('stg_admin__new_communes') }} as successor_communes
        on successor_communes.commune_code = crosswalk.new_commune_code
    group by
        commune_months.month_end_date,
        case
            when commune_months.commune_era = 'new' then new_communes.province_code
            else successor_communes.province_code
        end
),

ledger as (
    select
        month_end_date as as_of_date,
        province_code,
        sum(net_movement) over (
            partition by province_code order by month_end_date rows between unbounded preceding and current row
        ) as outstanding
    from monthly_net
),

mart as (
    select as_of_date, province_code, sum(outstanding_principal) as outstanding
    from {{ ref('mart_outstanding_balance') }}
    group by as_of_date, province_code
)

select
    coalesce(ledger.as_of_date, mart.as_of_date) as as_of_date,
    coalesce(ledger.province_code, mart.province_code) as province_code,
    ledger.outstanding as ledger_outstanding,
    mart.outstanding as mart_outstanding
from ledger
full outer join mart on mart.as_of_date = ledger.as_of_date and mart.province_code = ledger.province_code
where coalesce(mart.outstanding, 0) <> coalesce(ledger.outstanding, 0)
