{{ config(meta={"dagster": {"ref": {"name": "stg_admin__commune_crosswalk"}}}) }}
-- Each old commune → new commune pair is listed once: a pair twice would restate its balances twice.
select old_commune_code, new_commune_code, count(*) as listed
from {{ ref('stg_admin__commune_crosswalk') }}
group by old_commune_code, new_commune_code
having count(*) > 1
