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
