-- Each Savings and Loan Group on the 2025 map, with what the group-month models key on. One rule
-- for a group and the loans it holds (int_loans__new_commune): a group registered under a new
-- commune keeps it; a group of an old commune takes the new commune its own latest row after the
-- reorganisation carries (a savings deposit, or a ledger row of one of its loans: a group is one
-- village, and a village moves whole); a group with no such row goes to the old commune's default
-- successor, flagged as allocated when that commune was split.
with rows_after_reform as (
    select group_id, commune_code, deposit_date as row_date, deposit_id as row_id
    from {{ ref('stg_branch__savings_deposits') }}
    where commune_era = 'new'
    union all
    select loans.group_id, transactions.commune_code, transactions.transaction_date, transactions.transaction_id
    from {{ ref('stg_branch__transactions') }} as transactions
    inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = transactions.loan_id
    where transactions.commune_era = 'new' and loans.group_id is not null
),

latest_new_commune as (
    select group_id, new_commune_code
    from (
        select
            group_id,
            commune_code as new_commune_code,
            row_number() over (partition by group_id order by row_date desc, row_id desc) as recency
        from rows_after_reform
    ) as ranked
    where recency = 1
),

default_successor as (
    select old_commune_code, new_commune_code, is_split
    from {{ ref('stg_admin__commune_crosswalk') }}
    where is_default_successor
)

select
    loan_groups.group_id,
    loan_groups.organisation_code,
    loan_groups.transaction_point_id,
    points.transaction_office_code,
    points.transaction_day,
    loan_groups.member_count,
    loan_groups.established_date,
    loan_groups.branch_code,
    {{ restated_on_new_commune('loan_groups') }}
from {{ ref('stg_branch__groups') }} as loan_groups
left join {{ ref('stg_branch__transaction_points') }} as points
    on points.transaction_point_id = loan_groups.transaction_point_id
left join latest_new_commune on latest_new_commune.group_id = loan_groups.group_id
left join default_successor on default_successor.old_commune_code = loan_groups.commune_code
