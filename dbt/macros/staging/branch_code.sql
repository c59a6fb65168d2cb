{# The branch that exported a landing file: the folder after the source's, e.g. 'loans/08/loans_08.csv' -> '08'. #}
{% macro branch_code(source_file_column) %}
    {{ dbt.split_part(source_file_column, "'/'", 2) }}
{% endmacro %}
