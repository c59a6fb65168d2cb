-- Overdue principal by days past due at each month-end, in the buckets of seed overdue_aging_buckets.
select
    state.as_of_date,
    state.province_code,
    state.new_commune_code,
    state.program_code,
    state.organisation_code,
    buckets.aging_bucket,
    buckets.bucket_order,
    -- a loan has one row a month-end and one bucket, so counting rows counts loans
    count(*) as loans_with_overdue,
    sum(state.overdue_principal) as overdue_principal,
    sum(state.outstanding_principal) as outstanding_principal
from {{ ref('int_loan_state__month_end') }} as state
inner join {{ ref('overdue_aging_buckets') }} as buckets
    on state.days_past_due >= buckets.min_days_past_due
    and (buckets.max_days_past_due is null or state.days_past_due <= buckets.max_days_past_due)
where state.overdue_principal > 0
group by
    state.as_of_date,
    state.province_code,
    state.new_commune_code,
    state.program_code,
    state.organisation_code,
    buckets.aging_bucket,
    buckets.bucket_order
