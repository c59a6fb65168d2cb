-- Communes of the 34-province scheme, in force from 1 July 2025: the units every mart reports on.
with source as (
    select * from {{ source('admin', 'admin_units_new') }}
)

select
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    cast(commune_name as {{ dbt.type_string() }}) as commune_name,
    cast(commune_type as {{ dbt.type_string() }}) as commune_type,
    cast(area_km2 as {{ dbt.type_float() }}) as area_km2,
    cast(province_code as {{ dbt.type_string() }}) as province_code,
    cast(province_name as {{ dbt.type_string() }}) as province_name
from source
