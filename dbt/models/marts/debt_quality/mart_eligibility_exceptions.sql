-- Loans of the poor, near-poor and just-out-of-poverty programs whose borrower's household is not
-- certified in the required category on the list that governs the loan: communes certify their
-- lists at year end for the next year, so a loan disbursed in year Y is checked against the list
-- certified at the end of Y - 1. Years with no list of the branch's to govern them cannot be checked.
-- One row per loan; no personal data.
with checked_loans as (
    select
        loan_id,
        borrower_key,
        borrower_id,
        branch_code,
        program_code,
        disbursement_date,
        organisation_code,
        loan_amount,
        cast(extract(year from disbursement_date) as integer) - 1 as certification_year,
        -- the day that list was certified: 31 December of the year before the disbursement
        cast({{ dbt.dateadd('day', -1, dbt.date_trunc('year', 'disbursement_date')) }} as date) as list_certified_on
    from {{ ref('stg_branch__loans') }}
),

certified_any as (
    select household_id, certification_year, min(category) as category
    from {{ ref('stg_branch__certified_households') }}
    group by household_id, certification_year
),

listed_years as (
    select distinct branch_code, certification_year from {{ ref('stg_branch__certified_households') }}
)

select
    loans.loan_id,
    loans.borrower_key,
    loans.program_code,
    loans.disbursement_date,
    loans.certification_year,
    loans.list_certified_on,
    e.required_category,
    certified_any.category as certified_category,
    nc.new_commune_code,
    loans.organisation_code,
    loans.loan_amount
from checked_loans as loans
inner join {{ ref('program_eligibility') }} as e on e.program_code = loans.program_code
inner join {{ ref('stg_branch__borrowers') }} as borrowers on borrowers.borrower_id = loans.borrower_id
inner join {{ ref('int_loans__new_commune') }} as nc on nc.loan_id = loans.loan_id
left join {{ ref('stg_branch__certified_households') }} as certified
    on certified.household_id = borrowers.household_id
    and certified.certification_year = loans.certification_year
    and certified.category = e.required_category
left join certified_any
    on certified_any.household_id = borrowers.household_id
    and certified_any.certification_year = loans.certification_year
inner join listed_years
    on listed_years.branch_code = loans.branch_code
    and listed_years.certification_year = loans.certification_year
where certified.household_id is null
