-- Each new commune with outstanding loans at each month-end, flagged when none of its debt is
-- overdue (the branches' "communes with no overdue debt"; frozen debt is not overdue).
select
    state.as_of_date,
    state.province_code,
    state.new_commune_code,
    new_communes.commune_name as new_commune_name,
    -- a loan has one row a month-end, so counting rows counts loans
    sum(case when state.outstanding_principal > 0 then 1 else 0 end) as loans_with_outstanding,
    sum(state.outstanding_principal) as outstanding_principal,
    sum(state.overdue_principal) as overdue_principal,
    sum(state.frozen_principal) as frozen_principal,
    sum(state.overdue_principal) = 0 as has_no_overdue
from {{ ref('int_loan_state__month_end') }} as state
inner join {{ ref('stg_admin__new_communes') }} as new_communes on new_communes.commune_code = state.new_commune_code
group by state.as_of_date, state.province_code, state.new_commune_code, new_communes.commune_name
having sum(state.outstanding_principal) > 0
