-- Each loan's commune on the 2025 map, restating history across the 1 July 2025 reorganisation:
--   1. a loan with ledger rows dated on or after the reorganisation takes the new commune code its
--      own latest such row carries (the branch knew where the loan went);
--   2. a loan disbursed after the reorganisation with no such row yet keeps its own (new) code;
--   3. any other loan maps its old commune through the crosswalk: a commune merged whole goes to
--      its one successor; a split commune to its default successor, flagged is_allocated (an
--      assumption, not a fact: the marts report these balances as allocated_principal).
with loans as (
    select
        loan_id,
        commune_code,
        commune_code_era,
        case when commune_code_era = 'old' then commune_code end as old_commune_code
    from {{ ref('stg_branch__loans') }}
),

new_era_rows as (
    select
        loan_id,
        commune_code,
        row_number() over (partition by loan_id order by transaction_date desc, transaction_id desc) as recency
    from {{ ref('stg_branch__transactions') }}
    where commune_code_era = 'new'
),

latest_new_commune as (
    select loan_id, commune_code as new_commune_code
    from new_era_rows
    where recency = 1
),

default_successors as (
    select old_commune_code, new_commune_code, is_split
    from {{ ref('stg_admin__commune_crosswalk') }}
    where is_default_successor
)

select
    loans.loan_id,
    loans.old_commune_code,
    case
        when latest_new_commune.loan_id is not null then latest_new_commune.new_commune_code
        when loans.commune_code_era = 'new' then loans.commune_code
        else default_successors.new_commune_code
    end as new_commune_code,
    case
        when latest_new_commune.loan_id is not null then 'own_later_rows'
        when loans.commune_code_era = 'new' then 'disbursed_after_reorganisation'
        when default_successors.is_split then 'split_default_successor'
        when default_successors.old_commune_code is not null then 'merged_whole'
    end as restatement_rule,
    coalesce(latest_new_commune.loan_id is null and default_successors.is_split, false) as is_allocated
from loans
left join latest_new_commune
    on latest_new_commune.loan_id = loans.loan_id
left join default_successors
    on default_successors.old_commune_code = loans.old_commune_code
