{# Seeds on Spark: dbt-spark's `session` method pastes seed values into the SQL unescaped (an
   apostrophe breaks the statement) and turns empty cells into the string 'None'. Render each value
   as an escaped literal instead, NULL for an empty cell, and cast it to the seed's column type. #}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set column_types = [] %}
    {% for column_name in agate_table.column_names %}
        {% do column_types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) %}
    {% endfor %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    cast({{ spark_seed_literal(value) }} as {{ column_types[loop.index0] }})
                    {%- if not loop.last -%},{%- endif -%}
                {%- endfor -%}){%- if not loop.last -%},{%- endif %}
            {% endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.first %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
