-- Each loan's commune on the 2025 map. A loan with ledger rows after the reorganisation takes the
-- new commune its own latest row carries; any other loan maps its old commune through the
-- crosswalk, and a split old commune's loans go to its default successor, flagged as allocated.
-- The loan's transaction point (and the Transaction Office serving it) is the one it is served at.
with rows_after_reform as (
    select
        loan_id,
        commune_code,
        row_number() over (partition by loan_id order by transaction_date desc, transaction_id desc) as recency
    from {{ ref('stg_branch__transactions') }}
    where commune_era = 'new'
),

latest_new_commune as (
    select loan_id, commune_code as new_commune_code
    from rows_after_reform
    where recency = 1
),

default_successor as (
    select old_commune_code, new_commune_code, is_split
    from {{ ref('stg_admin__commune_crosswalk') }}
    where is_default_successor
)

select
    loans.loan_id,
    loans.commune_code as disbursement_commune_code,
    coalesce(
        latest_new_commune.new_commune_code,
        case when loans.commune_era = 'new' then loans.commune_code else default_successor.new_commune_code end
    ) as new_commune_code,
    (latest_new_commune.new_commune_code is null
        and loans.commune_era = 'old'
        and coalesce(default_successor.is_split, false)) as is_allocated,
    loans.transaction_point_id,
    points.transaction_office_code
from {{ ref('stg_branch__loans') }} as loans
left join {{ ref('stg_branch__transaction_points') }} as points on points.transaction_point_id = loans.transaction_point_id
left join latest_new_commune on latest_new_commune.loan_id = loans.loan_id
-- the era decides in the select, not here: a join condition on one side only makes a nested-loop join
left join default_successor on default_successor.old_commune_code = loans.commune_code
