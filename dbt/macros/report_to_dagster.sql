{#- Post-hook of every model and seed: its column types (with the descriptions the yml gives) and,
    on DuckDB, a table's row count, logged for Dagster. dagster-dbt attaches a node's JSON
    `{"columns": …}` log line to its materialization as the column schema; defs/dbt_models.py reads the
    `row_count` line. dbt runs this on its own connection, so nothing else opens the DuckDB file
    while dbt writes it (dagster-dbt's fetch_row_counts / fetch_column_metadata would). -#}
{% macro report_to_dagster() %}
  {%- if execute -%}
    {%- set documented = model.columns or {} -%}
    {%- set columns = {} -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
      {%- set doc = documented.get(column.name) or {} -%}
      {%- set description = doc.get("description") or none -%}
      {%- do columns.update({column.name: {"data_type": column.dtype, "description": description}}) -%}
    {%- endfor -%}
    {%- do log(tojson({"columns": columns}), info=true) -%}
    {%- if target.type == 'duckdb' and model.config.materialized != 'view' -%}
      {%- set counted = run_query("select count(*) from " ~ this) -%}
      {%- do log("row_count " ~ counted.columns[0].values()[0], info=true) -%}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
