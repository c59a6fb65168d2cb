select
    loan_id,
    instalment_no,
    due_date,
    principal_due,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from {{ source('branch', 'loan_schedules') }}
