select
    deposit_id,
    deposit_date,
    group_id,
    depositing_members,
    amount,
    commune_code,
    transaction_point_id,
    {{ dbt.last_day('deposit_date', 'month') }} as month_end_date,
    {{ commune_era('deposit_date') }} as commune_era,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'savings_deposits') }}
