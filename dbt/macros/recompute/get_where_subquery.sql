{#- dbt's own macro for a test's `where` config, with one more value: `__recomputed_months__`
    tests only the month-ends the last build recomputed (int_recompute__window; every row on a
    target without it). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__recomputed_months__' -%}
        {%- set window = adapter.get_relation(relation.database, relation.schema, 'int_recompute__window') -%}
        {%- set where = none -%}
        {%- if window and target.type == 'duckdb' -%}
            {%- set where = 'as_of_date >= coalesce((select recompute_from from ' ~ window
                            ~ "), cast('0001-01-01' as date))" -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
