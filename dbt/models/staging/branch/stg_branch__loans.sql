-- One row per loan contract. borrower_key stands for the borrower from here on.
with source as (
    select * from {{ source('branch', 'loans') }}
),

typed as (
    select
        cast(loan_id as {{ dbt.type_string() }}) as loan_id,
        cast(borrower_id as {{ dbt.type_string() }}) as borrower_id,
        cast(group_id as {{ dbt.type_string() }}) as group_id,
        cast(organisation_code as {{ dbt.type_string() }}) as organisation_code,
        cast(program_code as {{ dbt.type_string() }}) as program_code,
        cast(funding_source as {{ dbt.type_string() }}) as funding_source,
        cast(purpose as {{ dbt.type_string() }}) as purpose,
        cast(loan_amount as {{ dbt.type_bigint() }}) as loan_amount,
        cast(disbursement_date as date) as disbursement_date,
        cast(annual_rate as decimal(7, 4)) as annual_rate,
        cast(overdue_annual_rate as decimal(7, 4)) as overdue_annual_rate,
        cast(term_months as {{ dbt.type_int() }}) as term_months,
        cast(contract_due_date as date) as contract_due_date,
        cast(repayment_interval_months as {{ dbt.type_int() }}) as repayment_interval_months,
        cast(commune_code as {{ dbt.type_string() }}) as commune_code,
        cast(transaction_point_id as {{ dbt.type_string() }}) as transaction_point_id,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_line as {{ dbt.type_bigint() }}) as source_line
    from source
)

select
    loan_id,
    borrower_id,
    {{ surrogate_key(['borrower_id']) }} as borrower_key,
    group_id,
    organisation_code,
    -- lent directly by the bank: no Savings and Loan Group, no organisation
    (group_id is null) as is_direct_lending,
    program_code,
    funding_source,
    purpose,
    loan_amount,
    disbursement_date,
    {{ dbt.last_day('disbursement_date', 'month') }} as disbursement_month_end_date,
    annual_rate,
    overdue_annual_rate,
    term_months,
    contract_due_date,
    repayment_interval_months,
    commune_code,
    {{ commune_code_era('disbursement_date') }} as commune_code_era,
    transaction_point_id,
    {{ branch_code('source_file') }} as branch_code,
    source_file,
    source_line
from typed
