-- The restatement rule needs one default successor per old commune: returns old communes with none or several.
select
    old_communes.commune_code,
    count(crosswalk.new_commune_code) as default_successors
from {{ ref('stg_admin__old_communes') }} as old_communes
left join {{ ref('stg_admin__commune_crosswalk') }} as crosswalk
    on crosswalk.old_commune_code = old_communes.commune_code
    and crosswalk.is_default_successor
group by old_communes.commune_code
having count(crosswalk.new_commune_code) <> 1
