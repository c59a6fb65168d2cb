{#- The recompute contract (models/recompute/): the loan × month-end models, and the marts that
    sum them month by month, are incremental by as_of_date. int_recompute__window says the first
    month-end a build must recompute; these models recompute it and every later one, each loan
    carried forward from its row at the month-end before, and replace those month-ends whole
    (delete+insert by as_of_date). -#}

{#- That month-end, as a date literal for the model's SQL; none when the model computes every month:
    its first build, --full-refresh, a window of every month (null), a unit test, and any
    target but DuckDB (Spark overwrites the whole table). The ref is taken before any condition so
    that dbt always builds the window first. -#}
{% macro recompute_from() %}
    {%- set window = ref('int_recompute__window') -%}
    {%- if execute and target.type == 'duckdb' and this is not none and is_incremental() -%}
        {%- set first = run_query('select recompute_from from ' ~ window).columns[0].values()[0] -%}
        {%- if first is not none -%}
            {{- return("cast('" ~ first ~ "' as date)") -}}
        {%- endif -%}
    {%- endif -%}
    {{- return(none) -}}
{% endmacro %}
