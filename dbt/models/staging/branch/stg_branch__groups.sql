-- One row per Savings and Loan Group (Tổ tiết kiệm và vay vốn).
with source as (
    select * from {{ source('branch', 'groups') }}
)

select
    cast(group_id as {{ dbt.type_string() }}) as group_id,
    cast(group_name as {{ dbt.type_string() }}) as group_name,
    cast(village_name as {{ dbt.type_string() }}) as village_name,
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    {{ commune_code_era('cast(established_date as date)') }} as commune_code_era,
    cast(transaction_point_id as {{ dbt.type_string() }}) as transaction_point_id,
    cast(organisation_code as {{ dbt.type_string() }}) as organisation_code,
    cast(leader_borrower_id as {{ dbt.type_string() }}) as leader_borrower_id,
    {{ surrogate_key(['leader_borrower_id']) }} as leader_borrower_key,
    cast(established_date as date) as established_date,
    cast(member_count as {{ dbt.type_int() }}) as member_count,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from source
