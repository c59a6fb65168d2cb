-- Entrustment fee (organisation) and commission (group board) on the interest each group actually
-- collected in the month, at the rates in force that month.
with collected as (
    select loans.group_id, b.as_of_date, sum(b.interest_collected) as interest_collected
    from {{ recomputed(ref('int_loan_balances__month_end')) }} as b
    inner join {{ ref('int_loan_attributes') }} as loans on loans.loan_id = b.loan_id
    where loans.group_id is not null
    group by loans.group_id, b.as_of_date
)

select
    c.as_of_date,
    c.group_id,
    g.organisation_code,
    g.new_commune_code,
    c.interest_collected,
    cast(round(c.interest_collected * fee.rate_of_interest_collected, 0) as bigint) as organisation_fee,
    cast(round(c.interest_collected * commission.rate_of_interest_collected, 0) as bigint) as group_commission
from collected as c
inner join {{ ref('int_groups__new_commune') }} as g on g.group_id = c.group_id
inner join {{ ref('entrustment_fee_rates') }} as fee
    on fee.fee_kind = 'organisation_fee' and c.as_of_date between fee.valid_from and fee.valid_to
inner join {{ ref('entrustment_fee_rates') }} as commission
    on commission.fee_kind = 'group_commission' and c.as_of_date between commission.valid_from and commission.valid_to
