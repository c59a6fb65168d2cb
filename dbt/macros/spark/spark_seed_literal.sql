{# A Spark SQL string literal: backslash is its escape character. #}
{% macro spark_seed_literal(value) %}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{% endmacro %}
