-- Capital by source at each year end. Balances come from the capital ledger: 'mobilised' rows are the
-- groups' savings, 'local' the budget capital the province and communes entrust, 'central' the
-- central allocations that fund the rest of the outstanding.
with years as (
    select distinct branch_code, extract(year from effective_date) as capital_year
    from {{ ref('stg_branch__capital_sources') }}
),

sources as (
    select distinct branch_code, source from {{ ref('stg_branch__capital_sources') }}
),

balances as (
    select
        y.capital_year,
        y.branch_code as province_code,
        s.source,
        coalesce(sum(c.signed_amount), 0) as year_end_balance
    from years as y
    inner join sources as s on s.branch_code = y.branch_code
    left join {{ ref('stg_branch__capital_sources') }} as c
        on c.branch_code = y.branch_code
        and c.source = s.source
        and extract(year from c.effective_date) <= y.capital_year
    group by y.capital_year, y.branch_code, s.source
),

outstanding as (
    select
        loans.branch_code as province_code,
        extract(year from b.as_of_date) as capital_year,
        sum(b.outstanding_principal) as outstanding_principal
    from {{ ref('int_loan_balances__month_end') }} as b
    inner join {{ ref('stg_branch__loans') }} as loans on loans.loan_id = b.loan_id
    where extract(month from b.as_of_date) = 12
    group by loans.branch_code, extract(year from b.as_of_date)
),

with_totals as (
    select
        balances.*,
        sum(balances.year_end_balance)
            over (partition by balances.province_code, balances.capital_year)
            as total_capital,
        lag(balances.year_end_balance)
            over (partition by balances.province_code, balances.source order by balances.capital_year)
            as previous_year_end_balance
    from balances
)

select
    cast(t.capital_year as integer) as capital_year,
    t.province_code,
    t.source,
    t.year_end_balance,
    t.total_capital,
    case when t.total_capital <> 0 then cast(t.year_end_balance as decimal(38, 12)) / t.total_capital end
        as share_of_total_capital,
    case when t.source = 'local' and base.year_end_balance > 0
            then cast(t.year_end_balance as decimal(38, 12)) / base.year_end_balance
    end as multiple_of_base_year,
    o.outstanding_principal,
    o.outstanding_principal - prev_o.outstanding_principal as outstanding_growth,
    case when prev_o.outstanding_principal is not null and o.outstanding_principal <> prev_o.outstanding_principal
            then cast(t.year_end_balance - t.previous_year_end_balance as decimal(38, 12))
                / (o.outstanding_principal - prev_o.outstanding_principal)
    end as share_of_outstanding_growth
from with_totals as t
left join balances as base
    on base.province_code = t.province_code
    and base.source = t.source
    and base.capital_year = {{ var('capital_base_year') }}
left join outstanding as o on o.province_code = t.province_code and o.capital_year = t.capital_year
left join outstanding as prev_o on prev_o.province_code = t.province_code and prev_o.capital_year = t.capital_year - 1
