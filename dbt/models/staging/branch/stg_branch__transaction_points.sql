-- One row per transaction point (điểm giao dịch xã), where the bank's mobile team sits monthly.
with source as (
    select * from {{ source('branch', 'transaction_points') }}
)

select
    cast(transaction_point_id as {{ dbt.type_string() }}) as transaction_point_id,
    cast(transaction_point_name as {{ dbt.type_string() }}) as transaction_point_name,
    cast(transaction_office_code as {{ dbt.type_string() }}) as transaction_office_code,
    cast(transaction_office_name as {{ dbt.type_string() }}) as transaction_office_name,
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    {{ commune_code_era('cast(opened_date as date)') }} as commune_code_era,
    cast(transaction_day as {{ dbt.type_int() }}) as transaction_day,
    cast(opened_date as date) as opened_date,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from source
