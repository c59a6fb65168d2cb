-- Outstanding balance of each Savings and Loan Group at each month-end, by program and funding
-- source: what a group board and its organisation follow up. Loans lent directly have no group.
with loan_cells as (
    select
        loans.loan_id,
        loans.borrower_key,
        loans.group_id,
        loans.organisation_code,
        loan_groups.new_commune_code,
        loan_groups.transaction_office_code,
        loans.program_code,
        loans.funding_source,
        dense_rank() over (
            order by
                loans.group_id,
                loans.organisation_code,
                loan_groups.new_commune_code,
                loan_groups.transaction_office_code,
                loans.program_code,
                loans.funding_source
        ) as cell_number
    from {{ ref('int_loan_attributes') }} as loans
    inner join {{ ref('int_groups__new_commune') }} as loan_groups on loan_groups.group_id = loans.group_id
),

cells as (
    select distinct
        cell_number,
        group_id,
        organisation_code,
        new_commune_code,
        transaction_office_code,
        program_code,
        funding_source
    from loan_cells
),

cell_sums as (
    select
        balances.as_of_date,
        loan_cells.cell_number,
        cast(sum(balances.current_principal) as bigint) as current_principal,
        cast(sum(balances.overdue_principal) as bigint) as overdue_principal,
        cast(sum(balances.frozen_principal) as bigint) as frozen_principal,
        cast(sum(balances.outstanding_principal) as bigint) as outstanding_principal,
        cast(
            sum(case when balances.outstanding_principal > 0 and loan_cells.borrower_key is not null then 1 else 0 end)
            as bigint
        ) as loans_of_borrowers
    from {{ recomputed(ref('int_loan_balances__month_end')) }} as balances
    inner join loan_cells on loan_cells.loan_id = balances.loan_id
    group by balances.as_of_date, loan_cells.cell_number
),

extra_loans as (
    {{ extra_loans_of_borrowers('loan_cells', recomputed(ref('int_loan_balances__month_end'))) }}
)

select
    cell_sums.as_of_date,
    cells.group_id,
    cells.organisation_code,
    cells.new_commune_code,
    cells.transaction_office_code,
    cells.program_code,
    cells.funding_source,
    cell_sums.current_principal,
    cell_sums.overdue_principal,
    cell_sums.frozen_principal,
    cell_sums.outstanding_principal,
    cell_sums.loans_of_borrowers - coalesce(extra_loans.extra_loans, 0) as borrowers_with_outstanding
from cell_sums
inner join cells on cells.cell_number = cell_sums.cell_number
left join extra_loans
    on extra_loans.as_of_date = cell_sums.as_of_date and extra_loans.cell_number = cell_sums.cell_number
