{#-
    A stable surrogate key: the hash of the fields' text, nulls and field boundaries made explicit
    so that ('a', null) and (null, 'a') differ. Built on dbt.hash / dbt.concat, so it is the same
    md5 text on DuckDB and Spark.
-#}
{% macro surrogate_key(field_list) %}
    {%- set parts = [] -%}
    {%- for field in field_list -%}
        {%- do parts.append("coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
