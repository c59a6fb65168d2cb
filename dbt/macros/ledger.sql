{#- Principal a ledger row moves into (+) or out of (-) one balance bucket (docs/data-contract.md). -#}
{% macro signed_movement(bucket, amount='principal_amount', from_bucket='from_bucket', to_bucket='to_bucket') %}
    (case when {{ to_bucket }} = '{{ bucket }}' then {{ amount }} else 0 end
     - case when {{ from_bucket }} = '{{ bucket }}' then {{ amount }} else 0 end)
{%- endmacro %}

{#-
    The era of a row's commune code, from the row's era date: 'old' (63-province scheme) before
    the reorganisation date, 'new' (34-province scheme) from it on. The code alone cannot tell.
-#}
{% macro commune_code_era(date_expression) %}
    case when {{ date_expression }} < cast('{{ var("reorganisation_date") }}' as date) then 'old' else 'new' end
{%- endmacro %}

{#- The same for a yearly list whose era date is 31 December of its year: old iff the year is before the reorganisation's. -#}
{% macro commune_code_era_of_year_end(year_expression) %}
    case when {{ year_expression }} < {{ var("reorganisation_date")[:4] | int }} then 'old' else 'new' end
{%- endmacro %}

{#- The branch that exported a landing file: the folder after the source's, 'loans/08/loans_08.csv' -> '08'. -#}
{% macro branch_code(source_file_column='source_file') %}
    {{ dbt.split_part(source_file_column, "'/'", 2) }}
{%- endmacro %}
