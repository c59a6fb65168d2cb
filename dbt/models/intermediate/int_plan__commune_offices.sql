-- The Transaction Office each new commune reports its plan through: the office serving most of
-- the commune's loans (a merged commune may have points of two former district offices).
with loans_per_office as (
    select new_commune_code, transaction_office_code, count(*) as loans
    from {{ ref('int_loans__new_commune') }}
    where transaction_office_code is not null
    group by new_commune_code, transaction_office_code
),

ranked as (
    select
        new_commune_code,
        transaction_office_code,
        row_number() over (partition by new_commune_code order by loans desc, transaction_office_code) as office_rank
    from loans_per_office
)

select
    ranked.new_commune_code,
    communes.province_code,
    ranked.transaction_office_code
from ranked
inner join {{ ref('stg_admin__new_communes') }} as communes on communes.commune_code = ranked.new_commune_code
where ranked.office_rank = 1
