select
    transaction_point_id,
    transaction_point_name,
    transaction_office_code,
    transaction_office_name,
    commune_code,
    transaction_day,
    opened_date,
    {{ commune_era('opened_date') }} as commune_era,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'transaction_points') }}
