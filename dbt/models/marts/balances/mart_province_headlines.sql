-- The figures a province reports (docs/domain.md §6) at each month-end: outstanding, the share lent
-- through the organisations, borrowers and groups with outstanding loans, local budget capital.
with loan_balances as (
    select
        balances.as_of_date,
        loans.province_code,
        loans.province_name,
        balances.outstanding_principal,
        loans.group_id,
        loans.borrower_key
    from {{ recomputed(ref('int_loan_balances__month_end')) }} as balances
    inner join {{ ref('int_loan_attributes') }} as loans on loans.loan_id = balances.loan_id
    where balances.outstanding_principal > 0
),

lending as (
    select
        as_of_date,
        province_code,
        province_name,
        sum(outstanding_principal) as outstanding_principal,
        sum(case when group_id is not null then outstanding_principal else 0 end) as entrusted_principal,
        count(distinct borrower_key) as borrowers_with_outstanding,
        count(distinct group_id) as groups_with_outstanding
    from loan_balances
    group by as_of_date, province_code, province_name
),

local_capital as (
    -- the branch code of a capital file is its province
    select
        lending.as_of_date,
        lending.province_code,
        sum(case when capital.effective_date <= lending.as_of_date then capital.signed_amount else 0 end)
            as local_capital_balance,
        sum(case when capital.effective_date <= cast('{{ var("capital_base_year") }}-12-31' as date)
                then capital.signed_amount
            else 0
        end) as local_capital_base_year
    from lending
    inner join {{ ref('stg_branch__capital_sources') }} as capital
        on capital.branch_code = lending.province_code and capital.source = 'local'
    group by lending.as_of_date, lending.province_code
)

select
    lending.as_of_date,
    lending.province_code,
    lending.province_name,
    lending.outstanding_principal,
    lending.entrusted_principal,
    cast(lending.entrusted_principal as double) / lending.outstanding_principal as entrusted_share,
    lending.borrowers_with_outstanding,
    lending.groups_with_outstanding,
    local_capital.local_capital_balance,
    cast(local_capital.local_capital_balance as double)
    / nullif(local_capital.local_capital_base_year, 0) as local_capital_multiple
from lending
left join local_capital
    on local_capital.as_of_date = lending.as_of_date and local_capital.province_code = lending.province_code
