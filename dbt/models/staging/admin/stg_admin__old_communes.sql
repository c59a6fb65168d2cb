select province_code, province_name, district_code, district_name, commune_code, commune_name, commune_type
from {{ source('admin', 'admin_units_old') }}
