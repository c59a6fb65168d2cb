-- One row per commune, program and plan year of the 2026–2030 loan-demand survey.
with source as (
    select * from {{ source('branch', 'demand_survey') }}
)

select
    cast(survey_date as date) as survey_date,
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    {{ commune_code_era('cast(survey_date as date)') }} as commune_code_era,
    cast(program_code as {{ dbt.type_string() }}) as program_code,
    cast(plan_year as {{ dbt.type_int() }}) as plan_year,
    cast(households as {{ dbt.type_int() }}) as households,
    cast(demand_amount as {{ dbt.type_bigint() }}) as demand_amount,
    cast(beneficiary_count as {{ dbt.type_int() }}) as beneficiary_count,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from source
