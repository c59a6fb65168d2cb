-- One row per principal instalment of a loan.
with source as (
    select * from {{ source('branch', 'loan_schedules') }}
)

select
    cast(loan_id as {{ dbt.type_string() }}) as loan_id,
    cast(instalment_no as {{ dbt.type_int() }}) as instalment_no,
    cast(due_date as date) as due_date,
    {{ dbt.last_day('cast(due_date as date)', 'month') }} as due_month_end_date,
    cast(principal_due as {{ dbt.type_bigint() }}) as principal_due,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from source
