{%- set from_month = recompute_from() -%}
-- Loan × month-end balances by bucket. A loan has a row for every month-end from its first ledger
-- month until its balance is back to zero for good (or the last month of the ledger). The month
-- spine is the months the ledger has rows in: interest is collected every month.
-- Amounts are bigint (DuckDB sums to 128-bit integers, which are slower to write, read and add).
-- Incremental (macros/recompute/): from `from_month` on, a loan's balances start from
-- its row at the month-end before, as if that month's movements had brought them.
with ledger_movements as (
    select
        loan_id,
        month_end_date,
        cast(sum(current_movement) as bigint) as current_movement,
        cast(sum(overdue_movement) as bigint) as overdue_movement,
        cast(sum(frozen_movement) as bigint) as frozen_movement,
        -- a write-off's interest_amount is interest written off, not collected
        cast(sum(case when transaction_type = 'write_off' then 0 else interest_amount end) as bigint)
            as interest_collected,
        cast(sum(case when transaction_type = 'principal_repayment' then principal_amount else 0 end) as bigint)
            as principal_repaid,
        cast(sum(case when transaction_type = 'write_off' then principal_amount else 0 end) as bigint)
            as principal_written_off
    from {{ recomputed(ref('stg_branch__transactions'), column='month_end_date') }}
    group by loan_id, month_end_date
),

monthly_movements as (
    select * from ledger_movements
    {%- if from_month %}
    union all
    select
        loan_id,
        as_of_date,
        current_principal,
        overdue_principal,
        frozen_principal,
        0, 0, 0
    from {{ this }}
    where as_of_date = {{ carried_month(from_month) }}
    {%- endif %}
),

-- A loan runs from its first ledger month to its last, if its movements add up to nothing owed
-- there (the balance after its last movement is the sum of them all); one still owing runs to the
-- ledger's end.
loan_end as (
    select
        loan_id,
        min(month_end_date) as first_month_end,
        case
            when sum(current_movement + overdue_movement + frozen_movement) = 0 then max(month_end_date)
            else (select max(every_loan.month_end_date) from monthly_movements as every_loan)
        end as last_month_end
    from monthly_movements
    group by loan_id
),

month_ends as (
    select distinct month_end_date from monthly_movements
),

loan_months as (
    select loan_end.loan_id, month_ends.month_end_date
    from loan_end
    inner join month_ends
        on month_ends.month_end_date between loan_end.first_month_end and loan_end.last_month_end
),

balances as (
    select
        loan_months.loan_id,
        loan_months.month_end_date as as_of_date,
        cast(sum(coalesce(m.current_movement, 0)) over loan_history as bigint) as current_principal,
        cast(sum(coalesce(m.overdue_movement, 0)) over loan_history as bigint) as overdue_principal,
        cast(sum(coalesce(m.frozen_movement, 0)) over loan_history as bigint) as frozen_principal,
        cast(sum(
            coalesce(m.current_movement, 0) + coalesce(m.overdue_movement, 0) + coalesce(m.frozen_movement, 0)
        ) over loan_history as bigint) as outstanding_principal,
        -- what the loan owed at the previous month-end: this month-end's balance less this month's movements
        cast(sum(coalesce(m.current_movement, 0)) over loan_history - coalesce(m.current_movement, 0) as bigint)
            as current_principal_at_month_start,
        cast(sum(coalesce(m.overdue_movement, 0)) over loan_history - coalesce(m.overdue_movement, 0) as bigint)
            as overdue_principal_at_month_start,
        coalesce(m.interest_collected, 0) as interest_collected,
        coalesce(m.principal_repaid, 0) as principal_repaid,
        coalesce(m.principal_written_off, 0) as principal_written_off
    from loan_months
    left join monthly_movements as m
        on m.loan_id = loan_months.loan_id and m.month_end_date = loan_months.month_end_date
    window loan_history as (
        partition by loan_months.loan_id
        order by loan_months.month_end_date rows between unbounded preceding and current row
    )
)

select * from balances
{%- if from_month %}
where as_of_date >= {{ from_month }}
{%- endif %}
