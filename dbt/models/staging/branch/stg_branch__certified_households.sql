-- One row per household on a year's certified list (certified at year end, for the next year).
with source as (
    select * from {{ source('branch', 'certified_households') }}
)

select
    cast(certification_year as {{ dbt.type_int() }}) as certification_year,
    cast(household_id as {{ dbt.type_string() }}) as household_id,
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    -- era date: 31 December of the certification year
    {{ commune_code_era_of_year_end('certification_year') }} as commune_code_era,
    cast(category as {{ dbt.type_string() }}) as category,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from source
