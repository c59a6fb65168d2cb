select
    capital_entry_id,
    effective_date,
    source,
    entrusting_unit,
    commune_code,
    amount,
    direction,
    case when direction = 'in' then amount else -amount end as signed_amount,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'capital_sources') }}
