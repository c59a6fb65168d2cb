{# Sources an engine cannot read from the DuckDB file are registered over the Parquet files the
   ingestion side publishes (dagster_project/warehouse/publish.py): <published_dir>/<schema>/<table>.parquet,
   the dbt var Dagster passes (dagster_project/settings.py).
   Run on-run-start; every source in the project is registered, so a new source needs no change here. #}
{% macro register_published_sources() %}
    {{ return(adapter.dispatch('register_published_sources')()) }}
{% endmacro %}

{# DuckDB reads its raw schema directly. #}
{% macro default__register_published_sources() %}
{% endmacro %}

{% macro spark__register_published_sources() %}
    {% if execute %}
        {% set published_dir = var('published_dir', '../data/published') %}
        {% set schemas = [] %}
        {% for source in graph.sources.values() %}
            {% if source.schema not in schemas %}
                {% do run_query('create database if not exists ' ~ source.schema) %}
                {% do schemas.append(source.schema) %}
            {% endif %}
            {# external tables: dropping one leaves its file; re-creating picks up a re-published file's schema #}
            {% do run_query('drop table if exists ' ~ source.schema ~ '.' ~ source.identifier) %}
            {% do run_query('create table ' ~ source.schema ~ '.' ~ source.identifier ~ ' using parquet location \''
                            ~ published_dir ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ '.parquet\'') %}
        {% endfor %}
    {% endif %}
{% endmacro %}
