select
    as_of_date,
    new_commune_code,
    organisation_code,
    rating,
    count(*) as group_count
from {{ ref('mart_group_scorecard') }}
group by as_of_date, new_commune_code, organisation_code, rating
