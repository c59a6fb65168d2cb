{%- set from_month = recompute_from() -%}
-- Debt quality at each month-end on the 2025 communes, by program and organisation: the branch
-- view (overdue and overdue + frozen ratios, collection rates, K4c debt, write-offs) beside the
-- microfinance view (PAR30 / PAR90 on days past due).
with state as (
    select * from {{ recomputed(ref('int_loan_state__month_end')) }}
),

cells as (
    select
        as_of_date,
        province_code,
        new_commune_code,
        program_code,
        organisation_code,
        -- a loan has one row a month-end, so counting rows counts loans
        cast(sum(case when outstanding_principal > 0 then 1 else 0 end) as bigint) as loans_with_outstanding,
        cast(sum(case when overdue_principal > 0 then 1 else 0 end) as bigint) as loans_with_overdue,
        cast(sum(current_principal) as bigint) as current_principal,
        cast(sum(overdue_principal) as bigint) as overdue_principal,
        cast(sum(frozen_principal) as bigint) as frozen_principal,
        cast(sum(outstanding_principal) as bigint) as outstanding_principal,
        -- portfolio at risk: the whole outstanding of a loan in arrears, not only its overdue part
        cast(sum(case when days_past_due > 30 then outstanding_principal else 0 end) as bigint) as par30_principal,
        cast(sum(case when days_past_due > 90 then outstanding_principal else 0 end) as bigint) as par90_principal,
        cast(sum(case when frozen_cause_code = 'K4c' then frozen_principal else 0 end) as bigint)
            as k4c_frozen_principal,
        -- frozen debt whose freeze has expired (its decision's date, or its cause and loss's term)
        cast(sum(case when freeze_expiry_date <= as_of_date then frozen_principal else 0 end) as bigint)
            as frozen_principal_past_expiry,
        cast(sum(case when borrower_left_residence then outstanding_principal else 0 end) as bigint)
            as left_residence_principal,
        cast(sum(principal_written_off) as bigint) as principal_written_off,
        cast(sum(interest_written_off) as bigint) as interest_written_off,
        cast(sum(principal_due) as bigint) as principal_due,
        cast(sum(principal_collected_of_due) as bigint) as principal_collected_of_due,
        cast(sum(principal_rescheduled) as bigint) as principal_rescheduled,
        cast(sum(principal_repaid) as bigint) as principal_repaid,
        cast(sum(interest_accrued) as bigint) as interest_due,
        cast(sum(interest_collected) as bigint) as interest_collected,
        cast(sum(interest_collected_of_accrued) as bigint) as interest_collected_of_due,
        cast(sum(interest_unpaid) as bigint) as interest_unpaid
    from state
    group by as_of_date, province_code, new_commune_code, program_code, organisation_code
),

-- each cell's write-offs by month: the months computed here and, when only some are, the
-- earlier ones this mart already holds
write_offs as (
    select as_of_date, new_commune_code, program_code, organisation_code, principal_written_off, interest_written_off
    from cells
    where principal_written_off > 0 or interest_written_off > 0
    {%- if from_month %}
    union all
    select as_of_date, new_commune_code, program_code, organisation_code, principal_written_off, interest_written_off
    from {{ this }}
    where as_of_date < {{ from_month }} and (principal_written_off > 0 or interest_written_off > 0)
    {%- endif %}
),

-- write-offs since the ledger's first month, summed over the cell's months up to each month-end
written_off_to_date as (
    select
        cells.as_of_date,
        cells.new_commune_code,
        cells.program_code,
        cells.organisation_code,
        cast(sum(earlier.principal_written_off) as bigint) as principal_written_off_to_date,
        cast(sum(earlier.interest_written_off) as bigint) as interest_written_off_to_date
    from cells
    inner join write_offs as earlier
        on earlier.new_commune_code = cells.new_commune_code
        and earlier.program_code = cells.program_code
        and earlier.organisation_code = cells.organisation_code
        and earlier.as_of_date <= cells.as_of_date
    group by cells.as_of_date, cells.new_commune_code, cells.program_code, cells.organisation_code
),

new_communes as (
    select distinct new_commune_code, new_commune_name from {{ ref('int_loan_attributes') }}
)

select
    cells.as_of_date,
    cells.province_code,
    cells.new_commune_code,
    new_communes.new_commune_name,
    cells.program_code,
    cells.organisation_code,
    cells.loans_with_outstanding,
    cells.loans_with_overdue,
    cells.current_principal,
    cells.overdue_principal,
    cells.frozen_principal,
    cells.outstanding_principal,
    case when cells.outstanding_principal > 0
            then cast(cells.overdue_principal as decimal(38, 12)) / cells.outstanding_principal
    end as overdue_ratio,
    case when cells.outstanding_principal > 0
            then cast(cells.overdue_principal + cells.frozen_principal as decimal(38, 12)) / cells.outstanding_principal
    end
        as overdue_and_frozen_ratio,
    cells.par30_principal,
    cells.par90_principal,
    case when cells.outstanding_principal > 0
            then cast(cells.par30_principal as decimal(38, 12)) / cells.outstanding_principal
    end as par30_ratio,
    case when cells.outstanding_principal > 0
            then cast(cells.par90_principal as decimal(38, 12)) / cells.outstanding_principal
    end as par90_ratio,
    cells.k4c_frozen_principal,
    cells.frozen_principal_past_expiry,
    cells.left_residence_principal,
    cells.principal_written_off,
    cells.interest_written_off,
    coalesce(to_date.principal_written_off_to_date, 0) as principal_written_off_to_date,
    coalesce(to_date.interest_written_off_to_date, 0) as interest_written_off_to_date,
    cells.principal_due,
    cells.principal_collected_of_due,
    cells.principal_rescheduled,
    cells.principal_repaid,
    case when cells.principal_due > 0
            then cast(cells.principal_collected_of_due as decimal(38, 12)) / cells.principal_due
    end as principal_collection_rate,
    cells.interest_due,
    cells.interest_collected,
    cells.interest_collected_of_due,
    case when cells.interest_due > 0
            then cast(cells.interest_collected_of_due as decimal(38, 12)) / cells.interest_due
    end as interest_collection_rate,
    cells.interest_unpaid
from cells
inner join new_communes
    on new_communes.new_commune_code = cells.new_commune_code
left join written_off_to_date as to_date
    on to_date.as_of_date = cells.as_of_date
    and to_date.new_commune_code = cells.new_commune_code
    and to_date.program_code = cells.program_code
    and to_date.organisation_code = cells.organisation_code
