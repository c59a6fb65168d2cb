-- One row per borrowing household. The only model past raw that carries personal data
-- (full_name, national_id, phone): every later model identifies a borrower by borrower_key.
with source as (
    select * from {{ source('branch', 'borrowers') }}
),

typed as (
    select
        cast(borrower_id as {{ dbt.type_string() }}) as borrower_id,
        cast(household_id as {{ dbt.type_string() }}) as household_id,
        cast(full_name as {{ dbt.type_string() }}) as full_name,
        cast(national_id as {{ dbt.type_string() }}) as national_id,
        cast(phone as {{ dbt.type_string() }}) as phone,
        cast(gender as {{ dbt.type_string() }}) as gender,
        cast(birth_year as {{ dbt.type_int() }}) as birth_year,
        cast(ethnicity as {{ dbt.type_string() }}) as ethnicity,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(eligibility_year as {{ dbt.type_int() }}) as eligibility_year,
        cast(group_id as {{ dbt.type_string() }}) as group_id,
        cast(commune_code as {{ dbt.type_string() }}) as commune_code,
        cast(village_name as {{ dbt.type_string() }}) as village_name,
        cast(registered_date as date) as registered_date,
        cast(mobile_banking as {{ dbt.type_boolean() }}) as mobile_banking,
        cast(left_residence as {{ dbt.type_boolean() }}) as left_residence,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_line as {{ dbt.type_bigint() }}) as source_line
    from source
)

select
    borrower_id,
    {{ surrogate_key(['borrower_id']) }} as borrower_key,
    household_id,
    full_name,
    national_id,
    phone,
    gender,
    birth_year,
    ethnicity,
    category,
    eligibility_year,
    group_id,
    commune_code,
    {{ commune_code_era('registered_date') }} as commune_code_era,
    village_name,
    registered_date,
    mobile_banking,
    left_residence,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from typed
