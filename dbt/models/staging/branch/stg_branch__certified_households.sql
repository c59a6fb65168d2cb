select
    certification_year,
    household_id,
    commune_code,
    category,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'certified_households') }}
