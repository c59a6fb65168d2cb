select
    group_id,
    group_name,
    village_name,
    commune_code,
    transaction_point_id,
    organisation_code,
    leader_borrower_id,
    established_date,
    member_count,
    {{ commune_era('established_date') }} as commune_era,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'groups') }}
