-- Old commune → new commune, one row per pair. An old commune merged whole has one successor; a
-- split one has several, one of them its default successor (which takes rows with no better information).
with source as (
    select * from {{ source('admin', 'admin_unit_crosswalk') }}
)

select
    cast(old_commune_code as {{ dbt.type_string() }}) as old_commune_code,
    cast(new_commune_code as {{ dbt.type_string() }}) as new_commune_code,
    cast(is_split as {{ dbt.type_boolean() }}) as is_split,
    cast(is_default_successor as {{ dbt.type_boolean() }}) as is_default_successor
from source
