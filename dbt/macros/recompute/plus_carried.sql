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
