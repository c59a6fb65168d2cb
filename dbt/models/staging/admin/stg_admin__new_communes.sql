select province_code, province_name, commune_code, commune_name, commune_type, area_km2
from {{ source('admin', 'admin_units_new') }}
