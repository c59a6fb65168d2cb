{%- set from_month = recompute_from() -%}
-- Loan × month-end state: int_loan_balances__month_end's buckets plus what debt quality needs:
-- days past due, due dates, extensions and reschedulings, the freeze in force and its expiry,
-- write-offs to date, interest accrued and unpaid (the one accrual rule: int_group_months and the
-- debt-quality marts read it from here), principal falling due and collected, and where the loan
-- sits (2025 commune, transaction point, program, organisation).
--
-- Incremental like the balances (macros/recompute/): from `from_month` on, the running
-- totals (extensions, the last freeze, write-offs and the interest balance to date) start from
-- the loan's row at the month-end before; what looks further back (FIFO age of overdue, the
-- freeze in force, extensions moving instalments) reads the whole ledger.
with ledger as (
    select * from {{ ref('stg_branch__transactions') }}
),

balances as (
    select * from {{ recomputed(ref('int_loan_balances__month_end')) }}
),

monthly_events as (
    select
        loan_id,
        month_end_date,
        cast(sum(case when transaction_type = 'extension' then 1 else 0 end) as bigint) as extensions,
        max(case when transaction_type = 'extension' then new_due_date end) as latest_new_due_date,
        -- an extension or a rescheduling moves an instalment to its new due date
        cast(
            sum(case when transaction_type in ('extension', 'rescheduling') then principal_amount else 0 end) as bigint
        ) as principal_moved_away,
        cast(sum(case when transaction_type = 'rescheduling' then principal_amount else 0 end) as bigint)
            as principal_rescheduled,
        cast(sum(case when transaction_type = 'opening_balance' then principal_amount else 0 end) as bigint)
            as principal_brought_forward,
        cast(sum(
            case
                when transaction_type = 'principal_repayment' and from_bucket = 'current' then principal_amount
                else 0
            end
        ) as bigint) as principal_repaid_from_current,
        cast(sum(case when transaction_type = 'write_off' then interest_amount else 0 end) as bigint)
            as interest_written_off,
        sum(case when transaction_type = 'freeze' then 1 else 0 end) as freezes
    from ledger
    {%- if from_month %}
    where month_end_date >= {{ from_month }}
    {%- endif %}
    group by loan_id, month_end_date
),

-- the last freeze posted in each month: its cause and expiry hold until the next freeze
freeze_events as (
    select
        loan_id,
        month_end_date,
        transaction_date,
        cause_code,
        loss_percent,
        frozen_until,
        row_number()
            over (partition by loan_id, month_end_date order by transaction_date desc, transaction_id desc)
            as recency
    from ledger
    where transaction_type = 'freeze'
),

-- the longest freeze the cause and loss allow (seed freeze_terms: K1 3 or 5 years by loss); a
-- freeze expires at its decision's frozen_until, or at the term's end when that comes first or
-- the decision names no date; a cause with no term in the seed runs to frozen_until
freezes as (
    select
        freeze_events.loan_id,
        freeze_events.month_end_date,
        freeze_events.cause_code,
        freeze_events.frozen_until,
        terms.freeze_years,
        cast({{ dbt.dateadd('month', '12 * terms.freeze_years', 'freeze_events.transaction_date') }} as date)
            as freeze_term_end
    from freeze_events
    left join {{ ref('freeze_terms') }} as terms
        on terms.cause_code = freeze_events.cause_code
        and freeze_events.loss_percent between terms.min_loss_percent and terms.max_loss_percent
    where freeze_events.recency = 1
),

-- an extended or rescheduled instalment falls due in the month of its new due date instead of its scheduled one
moved_into as (
    select
        loan_id,
        {{ dbt.last_day('new_due_date', 'month') }} as month_end_date,
        cast(sum(principal_amount) as bigint) as principal_moved_into
    from ledger
    where transaction_type in ('extension', 'rescheduling')
    {%- if from_month %}
        and new_due_date >= {{ months_before(from_month) }}
    {%- endif %}
    group by loan_id, {{ dbt.last_day('new_due_date', 'month') }}
),

scheduled as (
    select
        loan_id,
        {{ dbt.last_day('due_date', 'month') }} as month_end_date,
        cast(sum(principal_due) as bigint) as principal_scheduled
    from {{ ref('stg_branch__loan_schedules') }}
    {%- if from_month %}
    where due_date >= {{ months_before(from_month) }}
    {%- endif %}
    group by loan_id, {{ dbt.last_day('due_date', 'month') }}
),

-- Days past due, first in first out: principal leaving overdue (repaid, frozen, written off)
-- settles the oldest transfer first, so the loan is as late as its oldest transfer not yet settled.
-- A transfer is posted on the due date the instalment missed.
overdue_transfers as (
    select
        loan_id,
        transaction_date,
        sum(principal_amount) over (
            partition by loan_id
            order by transaction_date, transaction_id rows between unbounded preceding and current row
        ) as transferred_to_date
    from ledger
    where to_bucket = 'overdue'
),

overdue_transfers_by_month as (
    select
        balances.loan_id,
        balances.as_of_date,
        balances.overdue_principal,
        transfers.transaction_date,
        transfers.transferred_to_date,
        max(transfers.transferred_to_date)
            over (partition by balances.loan_id, balances.as_of_date)
            as transferred_by_month_end
    from balances
    inner join overdue_transfers as transfers
        on transfers.loan_id = balances.loan_id and transfers.transaction_date <= balances.as_of_date
    where balances.overdue_principal > 0
),

overdue_age as (
    select loan_id, as_of_date, min(transaction_date) as overdue_since
    from overdue_transfers_by_month
    where transferred_to_date > transferred_by_month_end - overdue_principal
    group by loan_id, as_of_date
),

loans as (
    select * from {{ ref('int_loan_attributes') }}
),

monthly as (
    select
        balances.loan_id,
        balances.as_of_date,
        balances.current_principal,
        balances.overdue_principal,
        balances.frozen_principal,
        balances.outstanding_principal,
        balances.interest_collected,
        balances.principal_repaid,
        balances.principal_written_off,
        coalesce(events.extensions, 0) as extensions,
        coalesce(events.principal_rescheduled, 0) as principal_rescheduled,
        events.latest_new_due_date,
        coalesce(events.interest_written_off, 0) as interest_written_off,
        case when events.freezes > 0 then balances.as_of_date end as freeze_month_end,
        coalesce(events.principal_repaid_from_current, 0) as principal_repaid_from_current,
        -- principal owed at the start of the month: last month-end's, or what the ledger brought forward
        balances.current_principal_at_month_start + coalesce(events.principal_brought_forward, 0)
            as current_principal_at_month_start,
        balances.overdue_principal_at_month_start,
        greatest(
            coalesce(scheduled.principal_scheduled, 0)
            - coalesce(events.principal_moved_away, 0)
            + coalesce(moved_into.principal_moved_into, 0),
            0
        ) as principal_scheduled_after_moves
    from balances
    left join
        monthly_events as events
        on events.loan_id = balances.loan_id and events.month_end_date = balances.as_of_date
    left join scheduled on scheduled.loan_id = balances.loan_id and scheduled.month_end_date = balances.as_of_date
    left join
        moved_into
        on moved_into.loan_id = balances.loan_id and moved_into.month_end_date = balances.as_of_date
),

with_accrual as (
    select
        monthly.*,
        loans.annual_rate,
        loans.overdue_annual_rate,
        -- a month's interest on the balances the month started with (percent a year / 1200);
        -- overdue at the overdue rate, frozen debt none
        cast(round(
            (
                cast(monthly.current_principal_at_month_start as double) * loans.annual_rate
                + cast(monthly.overdue_principal_at_month_start as double) * loans.overdue_annual_rate
            ) / 1200, 0
        ) as bigint)
            as interest_accrued,
        -- principal falling due can't exceed what is still current: nothing falls due on a loan repaid early or frozen
        least(monthly.principal_scheduled_after_moves, monthly.current_principal_at_month_start) as principal_due
    from monthly
    inner join loans on loans.loan_id = monthly.loan_id
),

{%- if from_month %}
-- the running totals each loan carries into the recomputed months
carried as (
    select
        state.loan_id,
        state.extension_count,
        state.extended_due_date,
        earlier_freezes.last_freeze_month_end,
        state.principal_written_off_to_date,
        state.interest_written_off_to_date,
        state.interest_balance_to_date
    from {{ this }} as state
    left join (
        select loan_id, max(month_end_date) as last_freeze_month_end
        from freeze_events
        where month_end_date < {{ from_month }}
        group by loan_id
    ) as earlier_freezes on earlier_freezes.loan_id = state.loan_id
    where state.as_of_date = {{ carried_month(from_month) }}
),
{%- endif %}

history as (
    select
        with_accrual.*,
        {{ plus_carried('sum(extensions) over loan_history', 'extension_count', from_month) }} as extension_count,
        {{ plus_carried('max(latest_new_due_date) over loan_history', 'extended_due_date', from_month, 'max') }}
            as extended_due_date,
        {{ plus_carried('max(freeze_month_end) over loan_history', 'last_freeze_month_end', from_month, 'max') }}
            as last_freeze_month_end,
        {{ plus_carried('sum(principal_written_off) over loan_history', 'principal_written_off_to_date', from_month) }}
            as principal_written_off_to_date,
        {{ plus_carried('sum(interest_written_off) over loan_history', 'interest_written_off_to_date', from_month) }}
            as interest_written_off_to_date,
        {{ plus_carried(
            'sum(interest_accrued - interest_collected - interest_written_off) over loan_history',
            'interest_balance_to_date', from_month
        ) }} as interest_balance_to_date
    from with_accrual
    {%- if from_month %}
    left join carried on carried.loan_id = with_accrual.loan_id
    {%- endif %}
    window loan_history as (
        partition by with_accrual.loan_id
        order by with_accrual.as_of_date rows between unbounded preceding and current row
    )
)

select
    history.loan_id,
    history.as_of_date,
    loans.borrower_key,
    loans.province_code,
    loans.new_commune_code,
    loans.transaction_point_id,
    loans.program_code,
    loans.funding_source,
    loans.organisation_code,
    loans.group_id,
    history.current_principal,
    history.overdue_principal,
    history.frozen_principal,
    history.outstanding_principal,
    loans.contract_due_date,
    history.extended_due_date,
    case
        when history.extended_due_date > loans.contract_due_date then history.extended_due_date
        else loans.contract_due_date
    end as final_due_date,
    history.extension_count,
    overdue_age.overdue_since,
    case
        when history.overdue_principal > 0
            then {{ dbt.datediff('overdue_age.overdue_since', 'history.as_of_date', 'day') }}
        else 0
    end as days_past_due,
    case when history.frozen_principal > 0 then freezes.cause_code end as frozen_cause_code,
    case when history.frozen_principal > 0 then freezes.frozen_until end as frozen_until,
    case when history.frozen_principal > 0 then freezes.freeze_term_end end as freeze_term_end,
    case
        when history.frozen_principal = 0 then null
        when freezes.freeze_term_end < freezes.frozen_until or freezes.frozen_until is null
            then freezes.freeze_term_end
        else freezes.frozen_until
    end as freeze_expiry_date,
    -- the decision froze the debt for longer than its cause and loss allow
    coalesce(history.frozen_principal > 0 and freezes.frozen_until > freezes.freeze_term_end, false)
        as is_frozen_beyond_term,
    loans.borrower_left_residence,
    history.principal_written_off,
    history.principal_written_off_to_date,
    history.interest_written_off,
    history.interest_written_off_to_date,
    history.annual_rate,
    history.overdue_annual_rate,
    history.interest_accrued,
    history.interest_collected,
    least(history.interest_collected, history.interest_accrued) as interest_collected_of_accrued,
    -- accrued since the loan's first ledger month, less collected and written off; overpaid months carry forward
    history.interest_balance_to_date,
    greatest(history.interest_balance_to_date, 0) as interest_unpaid,
    history.principal_due,
    least(history.principal_repaid_from_current, history.principal_due) as principal_collected_of_due,
    history.principal_rescheduled,
    history.principal_repaid
from history
inner join loans on loans.loan_id = history.loan_id
left join overdue_age on overdue_age.loan_id = history.loan_id and overdue_age.as_of_date = history.as_of_date
left join freezes
    on freezes.loan_id = history.loan_id
    and freezes.month_end_date = history.last_freeze_month_end
