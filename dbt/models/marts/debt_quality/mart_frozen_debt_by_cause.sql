-- Frozen debt (khoanh nợ) at each month-end by new commune and risk cause: the cause and expiry of
-- the freeze in force on each loan (int_loan_state__month_end: the decision's frozen_until, or the
-- end of the term its cause and loss allow, whichever comes first).
select
    state.as_of_date,
    state.province_code,
    state.new_commune_code,
    state.frozen_cause_code as cause_code,
    causes.cause_name_vi,
    -- a loan has one row a month-end, so counting rows counts loans
    count(*) as loans_frozen,
    sum(state.frozen_principal) as frozen_principal,
    sum(case when state.freeze_expiry_date <= state.as_of_date then 1 else 0 end) as loans_past_expiry,
    sum(case when state.freeze_expiry_date <= state.as_of_date then state.frozen_principal else 0 end)
        as frozen_principal_past_expiry,
    sum(case when state.is_frozen_beyond_term then state.frozen_principal else 0 end)
        as frozen_principal_beyond_term,
    min(state.freeze_expiry_date) as earliest_freeze_expiry_date
from {{ ref('int_loan_state__month_end') }} as state
left join {{ ref('risk_causes') }} as causes on causes.cause_code = state.frozen_cause_code
where state.frozen_principal > 0
group by state.as_of_date, state.province_code, state.new_commune_code, state.frozen_cause_code, causes.cause_name_vi
