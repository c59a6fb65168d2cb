{#- The first month-end this build recomputes in the loan × month-end models (macros/recompute/):
    the earliest month-end any changed input can reach, comparing int_recompute__inputs with the
    inputs of the last complete build (int_recompute__built, read as it stands before this build
    replaces it). Null means every month: the first build, --full-refresh, a change that can reach
    any month, or a target without incremental models (Spark). -#}
-- depends_on: {{ ref('int_recompute__inputs') }}
-- depends_on: {{ ref('stg_branch__transactions') }}
{%- set built = adapter.get_relation(this.database, this.schema, 'int_recompute__built') if execute else none -%}
{%- set balances = adapter.get_relation(this.database, this.schema, 'int_loan_balances__month_end')
    if execute else none -%}
{%- if built is none or balances is none or flags.FULL_REFRESH or target.type != 'duckdb' %}

    {%- set why = "full refresh" if flags.FULL_REFRESH
        else ("a target that rebuilds every table" if target.type != 'duckdb' else "first build") %}
    select cast(null as date) as recompute_from, 'every month: {{ why }}' as reason
{%- else %}

with changed as (
    select
        coalesce(now.input_kind, before.input_kind) as input_kind,
        -- the earlier of the two: a loan that moved is recomputed where it was and where it is
        case
            when now.input_id is null then before.first_month_end
            when before.input_id is null then now.first_month_end
            when now.first_month_end is null or before.first_month_end is null then null
            when now.first_month_end < before.first_month_end then now.first_month_end
            else before.first_month_end
        end as first_month_end
    from {{ ref('int_recompute__inputs') }} as now
    full outer join {{ built }} as before
        on before.input_kind = now.input_kind and before.input_id = now.input_id
    where now.input_id is null or before.input_id is null or now.fingerprint <> before.fingerprint
),

changed_by_kind as (
    select
        input_kind,
        count(*) as changed_inputs,
        min(first_month_end) as first_month_end,
        sum(case when first_month_end is null then 1 else 0 end) as reaching_any_month
    from changed
    group by input_kind
),

first_ledger_month as (
    select min(first_month_end) as month_end from changed_by_kind where input_kind = 'ledger_month'
),

-- A loan that the changed ledger months bring back after its balance had come to zero before the
-- month-end the others are carried forward from: its months run on from its last row, so they are
-- recomputed from the month after that row.
carried_month as (
    select max(as_of_date) as month_end
    from {{ balances }}
    where as_of_date < (select month_end from first_ledger_month)
),

returning_loans as (
    select min(last_rows.last_month_end) as last_month_end
    from (
        select balances.loan_id, max(balances.as_of_date) as last_month_end
        from {{ balances }} as balances
        inner join (
            select distinct loan_id
            from {{ ref('stg_branch__transactions') }}
            where month_end_date >= (select month_end from first_ledger_month)
        ) as moved on moved.loan_id = balances.loan_id
        where balances.as_of_date < (select month_end from first_ledger_month)
        group by balances.loan_id
    ) as last_rows
    where last_rows.last_month_end < (select month_end from carried_month)
),

candidates as (
    select first_month_end as month_end, reaching_any_month from changed_by_kind
    union all
    select {{ dbt.last_day(dbt.dateadd('day', 1, 'last_month_end'), 'month') }}, 0
    from returning_loans
    where last_month_end is not null
),

reasons as (
    {%- set kind_and_count = "input_kind || ' ' || cast(changed_inputs as " ~ dbt.type_string() ~ ")" %}
    select {{ dbt.listagg(kind_and_count, "', '", "order by input_kind") }} as reason
    from changed_by_kind
)

select
    case
        when (select max(reaching_any_month) from candidates) > 0 then cast(null as date)
        -- nothing changed: the month after the last one held, so no month is recomputed
        else coalesce(
            (select min(month_end) from candidates),
            (select {{ dbt.last_day(dbt.dateadd('day', 1, 'max(as_of_date)'), 'month') }} from {{ balances }})
        )
    end as recompute_from,
    coalesce((select reason from reasons), 'nothing changed') as reason
{%- endif %}
