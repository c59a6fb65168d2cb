{#- A relation cut to the months this build recomputes (by a month-end or a day column), from
    `months_back` months before them for a model that compares a month with earlier ones; the whole
    relation when every month is computed. -#}
{% macro recomputed(relation, months_back=0, column='as_of_date') %}
    {%- set from_month = recompute_from() -%}
    {%- if from_month -%}
        (select * from {{ relation }} where {{ column }} >= {{ months_before(from_month, months_back) }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}
