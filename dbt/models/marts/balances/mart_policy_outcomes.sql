-- What the loans disbursed each year paid for, counted through the purpose → outcome seed.
select
    cast(extract(year from loans.disbursement_date) as integer) as disbursement_year,
    loans.branch_code as province_code,
    o.outcome_kind,
    count(*) as loan_count,
    sum(o.units_per_loan) as outcome_count,
    sum(loans.loan_amount) as loan_amount
from {{ ref('stg_branch__loans') }} as loans
inner join {{ ref('purpose_outcomes') }} as o on o.program_code = loans.program_code and o.purpose = loans.purpose
group by extract(year from loans.disbursement_date), loans.branch_code, o.outcome_kind
