-- Personal data (full_name, national_id, phone) stops here: later models carry borrower_key only.
select
    borrower_id,
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
    village_name,
    registered_date,
    mobile_banking,
    left_residence,
    {{ dbt.hash('borrower_id') }} as borrower_key,
    {{ commune_era('registered_date') }} as commune_era,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'borrowers') }}
