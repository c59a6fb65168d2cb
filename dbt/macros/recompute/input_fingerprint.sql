{#- An input's fingerprint: every column of its relation but its id and where it was read from. -#}
{% macro input_fingerprint(relation, id_column) %}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set not_content = [id_column, 'first_month_end', 'source_file', 'source_line'] -%}
    {%- set names = columns | map(attribute='name') | reject('in', not_content) | list -%}
    {{- fingerprint(names or ["''"]) -}}
{%- endmacro %}
