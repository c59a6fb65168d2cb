-- One row per group savings collection on a transaction day.
with source as (
    select * from {{ source('branch', 'savings_deposits') }}
)

select
    cast(deposit_id as {{ dbt.type_string() }}) as deposit_id,
    cast(deposit_date as date) as deposit_date,
    {{ dbt.last_day('cast(deposit_date as date)', 'month') }} as month_end_date,
    cast(group_id as {{ dbt.type_string() }}) as group_id,
    cast(depositing_members as {{ dbt.type_int() }}) as depositing_members,
    cast(amount as {{ dbt.type_bigint() }}) as amount,
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    {{ commune_code_era('cast(deposit_date as date)') }} as commune_code_era,
    cast(transaction_point_id as {{ dbt.type_string() }}) as transaction_point_id,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from source
