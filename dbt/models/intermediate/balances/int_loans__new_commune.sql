-- Each loan's commune on the 2025 map, by one rule with the groups (int_groups__new_commune): a loan
-- lent through a Savings and Loan Group sits where its group sits, so group and balance marts agree
-- commune by commune. A loan lent directly takes the new commune its own latest row after the
-- reorganisation carries; without one, it maps its old commune through the crosswalk, and a split
-- old commune's loans go to the default successor, flagged as allocated.
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
),

own_rows as (
    select
        loans.loan_id,
        loans.group_id,
        loans.commune_code as disbursement_commune_code,
        {{ restated_on_new_commune('loans') }},
        loans.transaction_point_id
    from {{ ref('stg_branch__loans') }} as loans
    left join latest_new_commune on latest_new_commune.loan_id = loans.loan_id
    left join default_successor on default_successor.old_commune_code = loans.commune_code
)

select
    own_rows.loan_id,
    own_rows.disbursement_commune_code,
    coalesce(loan_groups.new_commune_code, own_rows.new_commune_code) as new_commune_code,
    case when loan_groups.group_id is null then own_rows.is_allocated else loan_groups.is_allocated end as is_allocated,
    own_rows.transaction_point_id,
    points.transaction_office_code
from own_rows
left join {{ ref('int_groups__new_commune') }} as loan_groups on loan_groups.group_id = own_rows.group_id
left join {{ ref('stg_branch__transaction_points') }} as points
    on points.transaction_point_id = own_rows.transaction_point_id
