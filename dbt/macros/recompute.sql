{#- The recompute contract (models/recompute/): the loan × month-end models, and the marts that
    sum them month by month, are incremental by as_of_date. int_recompute__window says the first
    month-end a build must recompute; these models recompute it and every later one, each loan
    carried forward from its row at the month-end before, and replace those month-ends whole
    (delete+insert by as_of_date). -#}

{#- That month-end, as a date literal for the model's SQL; none when the model computes every month:
    its first build, --full-refresh, a window of every month (null), a unit test, and any
    target but DuckDB (Spark overwrites the whole table). The ref is taken before any condition so
    that dbt always builds the window first. -#}
{% macro recompute_from() %}
    {%- set window = ref('int_recompute__window') -%}
    {%- if execute and target.type == 'duckdb' and this is not none and is_incremental() -%}
        {%- set first = run_query('select recompute_from from ' ~ window).columns[0].values()[0] -%}
        {%- if first is not none -%}
            {{- return("cast('" ~ first ~ "' as date)") -}}
        {%- endif -%}
    {%- endif -%}
    {{- return(none) -}}
{% endmacro %}

{#- The last month-end before the recomputed ones: the rows each loan is carried forward from. -#}
{% macro carried_month(from_month) %}
    (select max(as_of_date) from {{ this }} where as_of_date < {{ from_month }})
{%- endmacro %}

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

{#- A relation cut to the months this build recomputes (by a month-end or a day column), from
    `months_back` months before them for a model that compares a month with earlier ones; the whole
    relation when every month is computed. -#}
{% macro recomputed(relation, months_back=0, column='as_of_date') %}
    {%- set from_month = recompute_from() -%}
    {%- if from_month -%}
        (select * from {{ relation }} where {{ column }} >= {{ months_before(from_month, months_back) }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}

{#- The first day of the month `months_back` months before a month-end's (of its own month for 0). -#}
{% macro months_before(from_month, months_back=0) %}
    cast({{ dbt.date_trunc('month', dbt.dateadd('month', -months_back, from_month) if months_back else from_month) }} as date)
{%- endmacro %}

{#- dbt's own macro for a test's `where` config, with one more value: `__recomputed_months__`
    tests only the month-ends the last build recomputed (int_recompute__window; every row on a
    target without it). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__recomputed_months__' -%}
        {%- set window = adapter.get_relation(relation.database, relation.schema, 'int_recompute__window') -%}
        {%- set where = ('as_of_date >= coalesce((select recompute_from from ' ~ window ~ "), cast('0001-01-01' as date))") if (window and target.type == 'duckdb') else none -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- One string that changes when any of `columns` does (nulls included). -#}
{% macro fingerprint(columns) %}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- An input's fingerprint: every column of its relation but its id and where it was read from. -#}
{% macro input_fingerprint(relation, id_column) %}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set names = columns | map(attribute='name') | reject('in', [id_column, 'first_month_end', 'source_file', 'source_line']) | list -%}
    {{- fingerprint(names or ["''"]) -}}
{%- endmacro %}

{#- A digest of the code the loan-month models are built from: the checksums of the incremental
    models and every model and seed upstream of them, the project's macros, and the vars they read. -#}
{% macro code_fingerprint() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set nodes = graph.nodes -%}
    {%- set wanted = [] -%}
    {%- for node in nodes.values() if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
        {%- do wanted.append(node.unique_id) -%}
    {%- endfor -%}
    {#- ancestors, a generation a pass (Jinja has no while) -#}
    {%- for _ in range(30) -%}
        {%- for unique_id in wanted | list -%}
            {%- for parent in nodes[unique_id].depends_on.nodes if parent in nodes and parent not in wanted -%}
                {%- do wanted.append(parent) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set parts = [] -%}
    {%- for unique_id in wanted | sort -%}
        {%- do parts.append(unique_id ~ ':' ~ nodes[unique_id].checksum.checksum) -%}
    {%- endfor -%}
    {#- the project's macros, through its namespace (the graph holds no macros) -#}
    {%- for name, macro in policy_credit_warehouse.items() | sort -%}
        {%- do parts.append(name ~ ':' ~ local_md5(macro.macro.macro_sql)) -%}
    {%- endfor -%}
    {%- do parts.append([var('reorganisation_date'), var('capital_base_year'), var('ledger_sources')] | string) -%}
    {{- return(local_md5(parts | join(','))) -}}
{% endmacro %}
