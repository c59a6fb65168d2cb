{#- Every input the loan × month-end models read, one fingerprint each, with the first month-end a
    change to it can reach (null: any month). int_recompute__window compares these rows with the
    ones the last complete build used (int_recompute__built). -#}
{%- set load_manifest = adapter.get_relation(this.database, 'audit', 'load_manifest') if execute else none -%}

-- a loan's attributes (int_loan_attributes): every month of the loan
select
    'loan' as input_kind,
    loan_id as input_id,
    {{ input_fingerprint(ref('int_loan_attributes'), 'loan_id') }} as fingerprint,
    first_month_end
from {{ ref('int_loan_attributes') }}

union all
-- a group's register row and where it sits: every month since it was established
select
    'group',
    group_id,
    {{ input_fingerprint(ref('int_groups__new_commune'), 'group_id') }},
    {{ dbt.last_day('established_date', 'month') }}
from {{ ref('int_groups__new_commune') }}

union all
-- a transaction point's session day decides attendance in every month
select
    'transaction_point',
    transaction_point_id,
    {{ input_fingerprint(ref('stg_branch__transaction_points'), 'transaction_point_id') }},
    cast(null as date)
from {{ ref('stg_branch__transaction_points') }}

union all
-- local capital is a running balance shown against a base year: any month
select
    'capital_entry',
    capital_entry_id,
    {{ input_fingerprint(ref('stg_branch__capital_sources'), 'capital_entry_id') }},
    cast(null as date)
from {{ ref('stg_branch__capital_sources') }}

union all
-- the models' own code and seeds: any month
select 'code', 'dbt project', '{{ code_fingerprint() }}', cast(null as date)

{%- if load_manifest %}

union all
-- a ledger month as last loaded (audit.load_manifest, written by the loaders): that month on
select
    'ledger_month',
    source_name || ' ' || partition_key,
    cast(max(finished_at) as {{ dbt.type_string() }}),
    {{ dbt.last_day("cast(partition_key || '-01' as date)", 'month') }}
from {{ load_manifest }}
where outcome = 'loaded' and source_name in ('{{ var("ledger_sources") | join("', '") }}')
group by source_name, partition_key
{%- endif %}
