{# A commune-grain relation at the plan's three levels: each commune, each Transaction Office (the
   sum of its communes) and each province (the sum of its offices), so children sum to parents by
   construction. `relation` has new_commune_code, transaction_office_code, province_code, `keys`
   and the additive `figures`. #}
{% macro plan_unit_levels(relation, keys, figures) %}
    select 'commune' as unit_level, new_commune_code as unit_code, transaction_office_code as parent_unit_code,
           province_code, {{ keys | join(', ') }}, {{ figures | join(', ') }}
    from {{ relation }}
    union all
    select 'office', transaction_office_code, province_code, province_code, {{ keys | join(', ') }},
           {% for f in figures %}sum({{ f }}){{ ', ' if not loop.last }}{% endfor %}
    from {{ relation }}
    group by transaction_office_code, province_code, {{ keys | join(', ') }}
    union all
    select 'province', province_code, cast(null as {{ dbt.type_string() }}), province_code, {{ keys | join(', ') }},
           {% for f in figures %}sum({{ f }}){{ ', ' if not loop.last }}{% endfor %}
    from {{ relation }}
    group by province_code, {{ keys | join(', ') }}
{% endmacro %}
