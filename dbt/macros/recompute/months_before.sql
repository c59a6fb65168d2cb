{#- The first day of the month `months_back` months before a month-end's (of its own month for 0). -#}
{% macro months_before(from_month, months_back=0) %}
    {%- set month = dbt.dateadd('month', -months_back, from_month) if months_back else from_month %}
    cast({{ dbt.date_trunc('month', month) }} as date)
{%- endmacro %}
