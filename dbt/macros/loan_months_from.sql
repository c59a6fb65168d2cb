{#- The loan × month-end models, and the marts that sum them month by month, are incremental by
    as_of_date (dbt_project.yml). A build recomputes the month-ends
    from var('ledger_months_from') on (the first month a load changed, which the orchestrator
    works out: dagster_project/incremental.py) and carries each loan forward from its row at the
    month-end before; every month-end from there on is replaced whole (delete+insert by as_of_date).
    Returns that month-end, or none when every month is computed: the first build, a build without
    the var, --full-refresh, and any target but DuckDB (Spark overwrites the whole table). -#}
{% macro loan_months_from() %}
    {%- set from_month = var('ledger_months_from', none) -%}
    {#- a unit test has no `this`: it computes every month -#}
    {{- return(from_month if (from_month and target.type == 'duckdb' and this is not none and is_incremental()) else none) -}}
{% endmacro %}

{#- The last month-end before the recomputed ones: the rows each loan is carried forward from. -#}
{% macro carried_month(from_month) %}
    (select max(as_of_date) from {{ this }} where as_of_date < cast('{{ from_month }}' as date))
{%- endmacro %}

{#- A running total over the months computed here, on top of the one the loan carried in from the
    month-end before (a left-joined `carried` row): added, or the later of the two for a `max`. -#}
{% macro plus_carried(running_total, column, from_month, aggregate='sum') %}
    {%- if not from_month -%}
        {{ running_total }}
    {%- elif aggregate == 'max' -%}
        greatest(carried.{{ column }}, {{ running_total }})
    {%- else -%}
        coalesce(carried.{{ column }}, 0) + {{ running_total }}
    {%- endif -%}
{% endmacro %}

{#- A relation cut to the months this build recomputes (by a month-end or a day column), from
    `months_back` months before them for a model that compares a month with earlier ones; the whole
    relation when every month is computed. -#}
{% macro recomputed(relation, months_back=0, column='as_of_date') %}
    {%- set from_month = loan_months_from() -%}
    {%- if from_month -%}
        (select * from {{ relation }} where {{ column }} >= {{ months_before(from_month, months_back) }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}

{#- The first day of the month `months_back` months before a month-end's (of its own month for 0). -#}
{% macro months_before(from_month, months_back=0) %}
    {%- set month_end = "cast('" ~ from_month ~ "' as date)" -%}
    cast({{ dbt.date_trunc('month', dbt.dateadd('month', -months_back, month_end) if months_back else month_end) }} as date)
{%- endmacro %}

{#- dbt's own macro for a test's `where` config, with one more value: `__recomputed_months__`
    tests only the month-ends this build recomputed (every row without ledger_months_from). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__recomputed_months__' -%}
        {%- set from_month = var('ledger_months_from', none) -%}
        {%- set where = "as_of_date >= cast('" ~ from_month ~ "' as date)" if from_month else none -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
