{# The era of a commune code: the 63-province scheme before the reorganisation date, the 34-province one after. #}
{% macro commune_era(date_column) %}
    case when {{ date_column }} < cast('{{ var("reorganisation_date") }}' as date) then 'old' else 'new' end
{% endmacro %}
