select
    survey_date,
    commune_code,
    program_code,
    plan_year,
    households,
    demand_amount,
    beneficiary_count,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'demand_survey') }}
