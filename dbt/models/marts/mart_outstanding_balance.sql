-- Outstanding principal at each month-end on the 2025 communes, by program and organisation.
-- History before 1 July 2025 is restated on the new communes loan by loan (int_loans__new_commune),
-- so each loan's whole balance lands in one new commune: nothing is created or lost.
with balances as (
    select loan_id, as_of_date, current_principal, overdue_principal, frozen_principal, outstanding_principal
    from {{ ref('int_loan_balances__month_end') }}
    where outstanding_principal <> 0
),

loans as (
    select
        loan_id,
        borrower_key,
        program_code,
        -- 'DIRECT': lent by the bank itself, outside any organisation's Savings and Loan Group
        case when group_id is null then 'DIRECT' else organisation_code end as organisation_code
    from {{ ref('stg_branch__loans') }}
),

loan_communes as (
    select loan_id, new_commune_code, is_allocated
    from {{ ref('int_loans__new_commune') }}
),

new_communes as (
    select commune_code, commune_name, province_code, province_name
    from {{ ref('stg_admin__new_communes') }}
)

select
    balances.as_of_date,
    new_communes.province_code,
    new_communes.province_name,
    loan_communes.new_commune_code,
    new_communes.commune_name as new_commune_name,
    loans.program_code,
    loans.organisation_code,
    cast(sum(balances.current_principal) as {{ dbt.type_bigint() }}) as current_principal,
    cast(sum(balances.overdue_principal) as {{ dbt.type_bigint() }}) as overdue_principal,
    cast(sum(balances.frozen_principal) as {{ dbt.type_bigint() }}) as frozen_principal,
    cast(sum(balances.outstanding_principal) as {{ dbt.type_bigint() }}) as outstanding_principal,
    cast(count(*) as {{ dbt.type_bigint() }}) as loans_with_outstanding,
    cast(count(distinct loans.borrower_key) as {{ dbt.type_bigint() }}) as borrowers_with_outstanding,
    cast(sum(case when loan_communes.is_allocated then balances.outstanding_principal else 0 end)
         as {{ dbt.type_bigint() }}) as allocated_principal
from balances
inner join loans
    on loans.loan_id = balances.loan_id
-- left joins: a loan without a commune keeps its balance here and fails the tests, rather than vanishing
left join loan_communes
    on loan_communes.loan_id = balances.loan_id
left join new_communes
    on new_communes.commune_code = loan_communes.new_commune_code
group by
    balances.as_of_date,
    new_communes.province_code,
    new_communes.province_name,
    loan_communes.new_commune_code,
    new_communes.commune_name,
    loans.program_code,
    loans.organisation_code
