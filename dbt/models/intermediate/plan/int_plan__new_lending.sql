-- New disbursements each commune plans by program, funding source and year: its surveyed demand
-- (scaled by the `plan_demand_scale` var), capped by the program's loan cap for each household,
-- split between central and local capital as the commune's balance of that program is at the
-- opening date (all central where it has none).
with demand as (
    select
        survey.commune_code as new_commune_code,
        survey.program_code,
        survey.plan_year,
        survey.households,
        survey.beneficiary_count,
        least(
            cast(survey.demand_amount * {{ var('plan_demand_scale') }} as bigint),
            survey.households * terms.loan_cap_vnd
        ) as capped_demand
    from {{ ref('stg_branch__demand_survey') }} as survey
    inner join {{ ref('program_terms') }} as terms
        on terms.program_code = survey.program_code
        -- the terms in force on 1 January of the plan year
        {%- set year_start = dbt.concat([
            dbt.safe_cast('survey.plan_year', api.Column.translate_type('string')), "'-01-01'"
        ]) %}
        and cast({{ year_start }} as date) between terms.valid_from and terms.valid_to
),

opening_split as (
    select
        new_commune_code,
        program_code,
        sum(case when funding_source = 'local' then outstanding_principal else 0 end) as local_principal,
        sum(outstanding_principal) as outstanding_principal
    from {{ ref('int_plan__opening_balances') }}
    group by new_commune_code, program_code
),

sources as (
    select 'central' as funding_source
    union all
    select 'local' as funding_source
),

shares as (
    select
        demand.new_commune_code,
        demand.program_code,
        demand.plan_year,
        sources.funding_source,
        demand.households,
        demand.beneficiary_count,
        demand.capped_demand,
        case
            -- no balance to split by: all central
            when coalesce(opening_split.outstanding_principal, 0) = 0
                then case when sources.funding_source = 'central' then 1.0 else 0.0 end
            when sources.funding_source = 'local'
                then cast(opening_split.local_principal as double) / opening_split.outstanding_principal
            else 1.0 - cast(opening_split.local_principal as double) / opening_split.outstanding_principal
        end as source_share
    from demand
    cross join sources
    left join opening_split
        on opening_split.new_commune_code = demand.new_commune_code and opening_split.program_code = demand.program_code
)

-- The local part is rounded to the đồng and the central part takes the rest, so the two add up.
select
    new_commune_code,
    program_code,
    funding_source,
    plan_year,
    case when funding_source = 'local' then cast(round(capped_demand * source_share) as bigint)
        else capped_demand - cast(round(capped_demand * (1.0 - source_share)) as bigint)
    end as new_disbursement,
    case when funding_source = 'local' then cast(round(households * source_share) as bigint)
        else households - cast(round(households * (1.0 - source_share)) as bigint)
    end as planned_households,
    case when funding_source = 'local' then cast(round(beneficiary_count * source_share) as bigint)
        else beneficiary_count - cast(round(beneficiary_count * (1.0 - source_share)) as bigint)
    end as planned_beneficiaries
from shares
where source_share > 0
