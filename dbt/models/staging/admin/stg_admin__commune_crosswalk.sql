select old_commune_code, new_commune_code, is_split, is_default_successor
from {{ source('admin', 'admin_unit_crosswalk') }}
