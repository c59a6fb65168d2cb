{%- set from_month = recompute_from() -%}
-- Group × month-end measures that the scorecard scores: savings, balances, interest and principal
-- due and collected (its loans' int_loan_state__month_end), and attendance at the transaction
-- point's session.
-- Incremental (macros/recompute/): the recomputed months read the month before them
-- (last month's savings); what is dated is read from that month on.
with month_ends as (
    select distinct as_of_date from {{ recomputed(ref('int_loan_balances__month_end'), months_back=1) }}
),

group_months as (
    select g.group_id, g.member_count, m.as_of_date
    from {{ ref('int_groups__new_commune') }} as g
    inner join month_ends as m on g.established_date <= m.as_of_date
),

-- a loan's interest due and principal due and collected are int_loan_state__month_end's (one rule, one
-- rounding, extensions and reschedulings moving instalments alike), summed over the group's loans
loans_by_group as (
    select
        group_id,
        as_of_date,
        cast(sum(overdue_principal) as bigint) as overdue_principal,
        cast(sum(outstanding_principal) as bigint) as outstanding_principal,
        cast(sum(interest_collected) as bigint) as interest_collected,
        cast(sum(interest_accrued) as bigint) as interest_due,
        cast(sum(principal_repaid) as bigint) as principal_repaid,
        cast(sum(principal_due) as bigint) as principal_due,
        cast(sum(principal_collected_of_due) as bigint) as principal_collected_of_due
    from {{ recomputed(ref('int_loan_state__month_end'), months_back=1) }}
    where group_id is not null
    group by group_id, as_of_date
),

savings as (
    select
        group_id,
        month_end_date as as_of_date,
        cast(sum(depositing_members) as bigint) as depositing_members,
        cast(sum(amount) as bigint) as savings_deposited
    from {{ recomputed(ref('stg_branch__savings_deposits'), months_back=1, column='month_end_date') }}
    group by group_id, month_end_date
),

-- a group attended when any of its rows (savings or its loans' ledger rows) is dated on its point's session day
group_activity as (
    select group_id, deposit_date as activity_date, transaction_point_id
    from {{ recomputed(ref('stg_branch__savings_deposits'), months_back=1, column='deposit_date') }}
    union all
    select loans.group_id, t.transaction_date, t.transaction_point_id
    from {{ recomputed(ref('stg_branch__transactions'), months_back=1, column='transaction_date') }} as t
    inner join {{ ref('int_loan_attributes') }} as loans on loans.loan_id = t.loan_id
    where loans.group_id is not null
),

attendance as (
    select distinct a.group_id, {{ dbt.last_day('a.activity_date', 'month') }} as as_of_date
    from group_activity as a
    inner join {{ ref('stg_branch__transaction_points') }} as tp on tp.transaction_point_id = a.transaction_point_id
    where extract(day from a.activity_date) = tp.transaction_day
),

group_month_rows as (
    select
        gm.group_id,
        gm.as_of_date,
        gm.member_count,
        coalesce(s.depositing_members, 0) as depositing_members,
        coalesce(s.savings_deposited, 0) as savings_deposited,
        coalesce(lag(s.savings_deposited) over (partition by gm.group_id order by gm.as_of_date), 0)
            as savings_deposited_previous_month,
        coalesce(l.overdue_principal, 0) as overdue_principal,
        coalesce(l.outstanding_principal, 0) as outstanding_principal,
        coalesce(l.interest_collected, 0) as interest_collected,
        coalesce(l.interest_due, 0) as interest_due,
        coalesce(l.principal_repaid, 0) as principal_repaid,
        coalesce(l.principal_due, 0) as principal_due,
        coalesce(l.principal_collected_of_due, 0) as principal_collected_of_due,
        case when a.group_id is null then 0 else 1 end as attended_session
    from group_months as gm
    left join savings as s on s.group_id = gm.group_id and s.as_of_date = gm.as_of_date
    left join loans_by_group as l on l.group_id = gm.group_id and l.as_of_date = gm.as_of_date
    left join attendance as a on a.group_id = gm.group_id and a.as_of_date = gm.as_of_date
)

select * from group_month_rows
{%- if from_month %}
where as_of_date >= {{ from_month }}
{%- endif %}
