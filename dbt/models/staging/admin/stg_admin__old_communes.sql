-- Communes of the 63-province scheme, in force until 30 June 2025 (the codes of rows dated before then).
with source as (
    select * from {{ source('admin', 'admin_units_old') }}
)

select
    cast(commune_code as {{ dbt.type_string() }}) as commune_code,
    cast(commune_name as {{ dbt.type_string() }}) as commune_name,
    cast(commune_type as {{ dbt.type_string() }}) as commune_type,
    cast(district_code as {{ dbt.type_string() }}) as district_code,
    cast(district_name as {{ dbt.type_string() }}) as district_name,
    cast(province_code as {{ dbt.type_string() }}) as province_code,
    cast(province_name as {{ dbt.type_string() }}) as province_name
from source
