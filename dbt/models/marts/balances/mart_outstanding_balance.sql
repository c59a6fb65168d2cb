{%- set from_month = recompute_from() -%}
-- Outstanding balance at each month-end on the 2025 communes, by Transaction Office, program,
-- funding source and organisation, with its growth since 31 December and over twelve months.
-- Growth compares the same unit: a unit that owed at the comparison date and owes nothing now
-- still has a row (outstanding 0), so growth sums exactly from any unit up to the province.
-- Incremental (macros/recompute/): the recomputed months read the twelve before them.
-- The cell a loan's balances add up in (its province, office, commune, program, funding source and
-- organisation), numbered so the 15 M loan-month rows are grouped on small integer keys.
with loan_cells as (
    select
        loan_id,
        borrower_key,
        is_allocated,
        province_code,
        transaction_office_code,
        new_commune_code,
        new_commune_name,
        program_code,
        funding_source,
        organisation_code,
        dense_rank() over (
            order by
                province_code,
                transaction_office_code,
                new_commune_code,
                program_code,
                funding_source,
                organisation_code
        ) as cell_number
    from {{ ref('int_loan_attributes') }}
),

extra_loans as (
    {{ extra_loans_of_borrowers('loan_cells', recomputed(ref('int_loan_balances__month_end'), months_back=12)) }}
),

cell_sums as (
    select
        balances.as_of_date,
        loan_cells.cell_number,
        sum(balances.current_principal) as current_principal,
        sum(balances.overdue_principal) as overdue_principal,
        sum(balances.frozen_principal) as frozen_principal,
        sum(balances.outstanding_principal) as outstanding_principal,
        -- a loan has one row a month-end, so counting rows counts loans
        sum(case when balances.outstanding_principal > 0 then 1 else 0 end) as loans_with_outstanding,
        sum(case when balances.outstanding_principal > 0 and loan_cells.borrower_key is not null then 1 else 0 end)
            as loans_of_borrowers,
        sum(case when loan_cells.is_allocated then balances.outstanding_principal else 0 end) as allocated_principal
    from {{ recomputed(ref('int_loan_balances__month_end'), months_back=12) }} as balances
    inner join loan_cells on loan_cells.loan_id = balances.loan_id
    group by balances.as_of_date, loan_cells.cell_number
),

cells as (
    select distinct
        cell_number, province_code, transaction_office_code, new_commune_code, new_commune_name,
        program_code, funding_source, organisation_code
    from loan_cells
),

balances as (
    select
        cell_sums.as_of_date,
        cells.province_code,
        cells.transaction_office_code,
        cells.new_commune_code,
        cells.new_commune_name,
        cells.program_code,
        cells.funding_source,
        cells.organisation_code,
        cell_sums.current_principal,
        cell_sums.overdue_principal,
        cell_sums.frozen_principal,
        cell_sums.outstanding_principal,
        cell_sums.loans_with_outstanding,
        cell_sums.loans_of_borrowers - coalesce(extra_loans.extra_loans, 0) as borrowers_with_outstanding,
        cell_sums.allocated_principal
    from cell_sums
    inner join cells on cells.cell_number = cell_sums.cell_number
    left join
        extra_loans
        on extra_loans.as_of_date = cell_sums.as_of_date and extra_loans.cell_number = cell_sums.cell_number
),

month_ends as (
    select distinct as_of_date from balances
),

-- Each month-end's comparison dates: 31 December of the year before (year start) and the same
-- month a year before (year ago); for a December both are one date.
comparisons as (
    select
        month_ends.as_of_date,
        earlier.as_of_date as compared_date,
        case when extract(month from earlier.as_of_date) = 12 then 1 else 0 end as is_year_start,
        case when extract(month from earlier.as_of_date) = extract(month from month_ends.as_of_date) then 1 else 0 end
            as is_year_ago
    from month_ends
    inner join month_ends as earlier
        on extract(year from earlier.as_of_date) = extract(year from month_ends.as_of_date) - 1
        and (
            extract(month from earlier.as_of_date) = 12
            or extract(month from earlier.as_of_date) = extract(month from month_ends.as_of_date)
        )
),

contributions as (
    select
        as_of_date, province_code, transaction_office_code, new_commune_code, new_commune_name,
        program_code, funding_source, organisation_code,
        current_principal, overdue_principal, frozen_principal, outstanding_principal,
        loans_with_outstanding, borrowers_with_outstanding, allocated_principal,
        0 as outstanding_at_year_start, 0 as outstanding_a_year_ago
    from balances
    union all
    select
        comparisons.as_of_date, balances.province_code, balances.transaction_office_code, balances.new_commune_code,
        balances.new_commune_name, balances.program_code, balances.funding_source, balances.organisation_code,
        0, 0, 0, 0, 0, 0, 0,
        comparisons.is_year_start * balances.outstanding_principal,
        comparisons.is_year_ago * balances.outstanding_principal
    from comparisons
    inner join balances on balances.as_of_date = comparisons.compared_date
),

-- Growth is known only where the ledger reaches back to the comparison date.
reach as (
    select as_of_date, max(is_year_start) as has_year_start, max(is_year_ago) as has_year_ago
    from comparisons
    group by as_of_date
)

select
    contributions.as_of_date,
    contributions.province_code,
    contributions.transaction_office_code,
    contributions.new_commune_code,
    contributions.new_commune_name,
    contributions.program_code,
    contributions.funding_source,
    contributions.organisation_code,
    -- bigint on every engine (DuckDB sums to a 128-bit integer): the contract's types
    cast(sum(contributions.current_principal) as bigint) as current_principal,
    cast(sum(contributions.overdue_principal) as bigint) as overdue_principal,
    cast(sum(contributions.frozen_principal) as bigint) as frozen_principal,
    cast(sum(contributions.outstanding_principal) as bigint) as outstanding_principal,
    cast(sum(contributions.loans_with_outstanding) as bigint) as loans_with_outstanding,
    cast(sum(contributions.borrowers_with_outstanding) as bigint) as borrowers_with_outstanding,
    cast(sum(contributions.allocated_principal) as bigint) as allocated_principal,
    case when max(reach.has_year_start) = 1
            then cast(sum(contributions.outstanding_principal) - sum(contributions.outstanding_at_year_start) as bigint)
    end as growth_since_year_start,
    case when max(reach.has_year_ago) = 1
            then cast(sum(contributions.outstanding_principal) - sum(contributions.outstanding_a_year_ago) as bigint)
    end as growth_over_twelve_months
from contributions
left join reach on reach.as_of_date = contributions.as_of_date
{%- if from_month %}
where contributions.as_of_date >= {{ from_month }}
{%- endif %}
group by
    contributions.as_of_date,
    contributions.province_code,
    contributions.transaction_office_code,
    contributions.new_commune_code,
    contributions.new_commune_name,
    contributions.program_code,
    contributions.funding_source,
    contributions.organisation_code
