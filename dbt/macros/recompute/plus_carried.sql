{#- A running total over the months computed here, on top of the one the loan carried in from the
    month-end before (a left-joined `carried` row): added, or the later of the two for a `max`.
    Sums are bigint: DuckDB's are 128-bit integers, slower to write, read and add. -#}
{% macro plus_carried(running_total, column, from_month, aggregate='sum') %}
    {%- if aggregate == 'max' -%}
        {%- if not from_month -%}
            {{ running_total }}
        {%- else -%}
            greatest(carried.{{ column }}, {{ running_total }})
        {%- endif -%}
    {%- elif not from_month -%}
        cast({{ running_total }} as bigint)
    {%- else -%}
        cast(coalesce(carried.{{ column }}, 0) + {{ running_total }} as bigint)
    {%- endif -%}
{% endmacro %}
