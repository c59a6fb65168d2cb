-- One row per capital entry. Amounts land unsigned; signed_amount is + for capital received
-- and - for capital returned or withdrawn, so a source's balance is a plain sum.
-- (the CTE is not named `source`: the table has a column of that name)
with landed as (
    select * from {{ source('branch', 'capital_sources') }}
)

select
    cast(capital_entry_id as {{ dbt.type_string() }}) as capital_entry_id,
    cast(effective_date as date) as effective_date,
    cast(landed.source as {{ dbt.type_string() }}) as capital_source,
    cast(entrusting_unit as {{ dbt.type_string() }}) as entrusting_unit,
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    {{ commune_code_era('cast(effective_date as date)') }} as commune_code_era,
    cast(amount as {{ dbt.type_bigint() }}) as amount,
    cast(direction as {{ dbt.type_string() }}) as direction,
    cast(case when direction = 'out' then -amount else amount end as {{ dbt.type_bigint() }}) as signed_amount,
    {{ branch_code('source_file') }} as branch_code,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_line as {{ dbt.type_bigint() }}) as source_line
from landed
