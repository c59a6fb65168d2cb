-- One row per ledger row, typed, with the principal it moves signed per balance bucket. A loan's
-- balance in a bucket is the running sum of that bucket's movement; outstanding = the three.
with source as (
    select * from {{ source('branch', 'transactions') }}
),

typed as (
    select
        cast(transaction_id as {{ dbt.type_string() }}) as transaction_id,
        cast(transaction_date as date) as transaction_date,
        cast(loan_id as {{ dbt.type_string() }}) as loan_id,
        cast(transaction_type as {{ dbt.type_string() }}) as transaction_type,
        cast(principal_amount as {{ dbt.type_bigint() }}) as principal_amount,
        cast(interest_amount as {{ dbt.type_bigint() }}) as interest_amount,
        cast(from_bucket as {{ dbt.type_string() }}) as from_bucket,
        cast(to_bucket as {{ dbt.type_string() }}) as to_bucket,
        cast(cause_code as {{ dbt.type_string() }}) as cause_code,
        cast(new_due_date as date) as new_due_date,
        cast(frozen_until as date) as frozen_until,
        cast(reversed_transaction_id as {{ dbt.type_string() }}) as reversed_transaction_id,
        cast(commune_code as {{ dbt.type_string() }}) as commune_code,
        cast(transaction_point_id as {{ dbt.type_string() }}) as transaction_point_id,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_line as {{ dbt.type_bigint() }}) as source_line
    from source
)

select
    transaction_id,
    transaction_date,
    {{ dbt.last_day('transaction_date', 'month') }} as month_end_date,
    loan_id,
    transaction_type,
    principal_amount,
    interest_amount,
    from_bucket,
    to_bucket,
    cast({{ signed_movement('current') }} as {{ dbt.type_bigint() }}) as current_movement,
    cast({{ signed_movement('overdue') }} as {{ dbt.type_bigint() }}) as overdue_movement,
    cast({{ signed_movement('frozen') }} as {{ dbt.type_bigint() }}) as frozen_movement,
    -- net change of the loan's outstanding (= current + overdue + frozen); 0 for a move between buckets
    cast({{ signed_movement('current') }} + {{ signed_movement('overdue') }} + {{ signed_movement('frozen') }}
         as {{ dbt.type_bigint() }}) as outstanding_movement,
    cause_code,
    new_due_date,
    frozen_until,
    reversed_transaction_id,
    commune_code,
    {{ commune_code_era('transaction_date') }} as commune_code_era,
    transaction_point_id,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from typed
