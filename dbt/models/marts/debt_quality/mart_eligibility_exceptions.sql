-- Loans of the poor, near-poor and just-out-of-poverty programs whose borrower's household is not
-- certified in the required category for the disbursement year (years the branch has a list for).
-- One row per loan; no personal data.
with certified_any as (
    select household_id, certification_year, min(category) as category
    from {{ ref('stg_branch__certified_households') }}
    group by household_id, certification_year
),

-- years before the branch's first certified list cannot be checked
listed_years as (
    select distinct branch_code, certification_year from {{ ref('stg_branch__certified_households') }}
)

select
    loans.loan_id,
    loans.borrower_key,
    loans.program_code,
    loans.disbursement_date,
    cast(extract(year from loans.disbursement_date) as integer) as certification_year,
    e.required_category,
    certified_any.category as certified_category,
    nc.new_commune_code,
    loans.organisation_code,
    loans.loan_amount
from {{ ref('stg_branch__loans') }} as loans
inner join {{ ref('program_eligibility') }} as e on e.program_code = loans.program_code
inner join {{ ref('stg_branch__borrowers') }} as borrowers on borrowers.borrower_id = loans.borrower_id
inner join {{ ref('int_loans__new_commune') }} as nc on nc.loan_id = loans.loan_id
left join {{ ref('stg_branch__certified_households') }} as certified
    on certified.household_id = borrowers.household_id
    and certified.certification_year = extract(year from loans.disbursement_date)
    and certified.category = e.required_category
left join certified_any
    on certified_any.household_id = borrowers.household_id
    and certified_any.certification_year = extract(year from loans.disbursement_date)
inner join listed_years
    on listed_years.branch_code = loans.branch_code
    and listed_years.certification_year = extract(year from loans.disbursement_date)
where certified.household_id is null
