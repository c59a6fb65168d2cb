{# Principal a ledger row moves into (+) or out of (-) a balance bucket. #}
{% macro signed_movement(bucket) %}
    (case when to_bucket = '{{ bucket }}' then principal_amount else 0 end
     - case when from_bucket = '{{ bucket }}' then principal_amount else 0 end)
{% endmacro %}

{# The era of a commune code: the 63-province scheme before the reorganisation date, the 34-province one after. #}
{% macro commune_era(date_column) %}
    case when {{ date_column }} < cast('{{ var("reorganisation_date") }}' as date) then 'old' else 'new' end
{% endmacro %}

{# The branch that exported a landing file: the folder after the source's, e.g. 'loans/08/loans_08.csv' -> '08'. #}
{% macro branch_code(source_file_column) %}
    {{ dbt.split_part(source_file_column, "'/'", 2) }}
{% endmacro %}
