{{ config(meta={"dagster": {"ref": {"name": "mart_eligibility_exceptions"}}}) }}
-- A few loans to households not on the year's certified list are real, and reported one by one in
-- mart_eligibility_exceptions; more than var eligibility_exception_tolerance (2 %) of a program's
-- checked loans means a certified list is missing or wrong. Checked loans: those the mart checks
-- (programs of seed program_eligibility, disbursed in the year after one the branch has a list for:
-- lists are certified at year end for the next year).
with listed_years as (
    select distinct branch_code, certification_year
    from {{ ref('stg_branch__certified_households') }}
),

checked as (
    select loans.program_code, count(*) as loans
    from {{ ref('stg_branch__loans') }} as loans
    inner join {{ ref('program_eligibility') }} as eligibility on eligibility.program_code = loans.program_code
    inner join listed_years
        on listed_years.branch_code = loans.branch_code
        and listed_years.certification_year = extract(year from loans.disbursement_date) - 1
    group by loans.program_code
),

exceptions as (
    select program_code, count(*) as loans
    from {{ ref('mart_eligibility_exceptions') }}
    group by program_code
)

select checked.program_code, checked.loans as loans_checked, exceptions.loans as exceptions
from checked
inner join exceptions on exceptions.program_code = checked.program_code
where exceptions.loans > {{ var('eligibility_exception_tolerance', 0.02) }} * checked.loans
