{#-
    One row per calendar month, `month_end_date` = its last day, from the month of `start_date`
    to the month of `end_date` (ISO date strings, resolved at compile time so the spine needs no
    query). Portable default built on dbt.generate_series / dbt.dateadd / dbt.last_day; an adapter
    may override it (`<adapter>__month_end_spine`), e.g. with a native sequence.
-#}
{% macro month_end_spine(start_date=var('calendar_start_date'), end_date=var('calendar_end_date')) %}
    {{ return(adapter.dispatch('month_end_spine', 'policy_credit_warehouse')(start_date, end_date)) }}
{% endmacro %}

{% macro default__month_end_spine(start_date, end_date) %}
    {%- set first = modules.datetime.datetime.strptime(start_date | string, '%Y-%m-%d') -%}
    {%- set last = modules.datetime.datetime.strptime(end_date | string, '%Y-%m-%d') -%}
    {%- set months = (last.year - first.year) * 12 + last.month - first.month + 1 -%}
    {%- if months < 1 -%}
        {{ exceptions.raise_compiler_error("month_end_spine: end_date " ~ end_date ~ " is before start_date " ~ start_date) }}
    {%- endif -%}
    {%- set first_of_month = "cast('" ~ first.strftime('%Y-%m') ~ "-01' as date)" -%}
    select
        {{ dbt.last_day(dbt.dateadd('month', 'generated_number - 1', first_of_month), 'month') }} as month_end_date
    from ({{ dbt.generate_series(months) }}) as series
{% endmacro %}
