-- Where each new commune's plan goes up: its province, and the Transaction Office serving most of
-- its loans (a merged commune may have points of two former district offices). A commune with no
-- loans yet has no office serving it; its plan still counts, under its own province's 'UNASSIGNED'
-- office. The plan keys every office by province × office code, so one 'UNASSIGNED' code serves
-- every province: the province is already in the key (a province-qualified code would repeat it),
-- and the communes waiting for an office stay one code to filter on, country-wide.
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
        row_number()
            over (partition by new_commune_code order by loans desc, transaction_office_code asc)
            as office_rank
    from loans_per_office
)

select
    communes.commune_code as new_commune_code,
    communes.province_code,
    coalesce(ranked.transaction_office_code, 'UNASSIGNED') as transaction_office_code
from {{ ref('stg_admin__new_communes') }} as communes
left join ranked on ranked.new_commune_code = communes.commune_code and ranked.office_rank = 1
