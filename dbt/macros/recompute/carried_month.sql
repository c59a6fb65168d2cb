{#- The last month-end before the recomputed ones: the rows each loan is carried forward from. -#}
{% macro carried_month(from_month) %}
    (select max(as_of_date) from {{ this }} where as_of_date < {{ from_month }})
{%- endmacro %}
