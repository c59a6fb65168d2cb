-- Each group's commune on the 2025 map: a group registered under an old commune goes to its default successor.
-- The era decides in the select, not in the join: a join condition on one side only makes a nested-loop join.
select
    groups.group_id,
    groups.organisation_code,
    groups.transaction_point_id,
    groups.member_count,
    groups.established_date,
    groups.branch_code,
    case when groups.commune_era = 'new' then groups.commune_code else crosswalk.new_commune_code end as new_commune_code
from {{ ref('stg_branch__groups') }} as groups
left join {{ ref('stg_admin__commune_crosswalk') }} as crosswalk
    on crosswalk.old_commune_code = groups.commune_code and crosswalk.is_default_successor
