-- The credit plan of each new commune, program, funding source, plan year and scenario. Closing
-- outstanding is the opening balance plus every plan year's new disbursements less collections so
-- far (int_plan__scenario_lending). The households and beneficiaries a scenario reaches are the
-- surveyed ones in the share of the demand it lends.
with opening as (
    select new_commune_code, program_code, funding_source, outstanding_principal, overdue_principal
    from {{ ref('int_plan__opening_balances') }}
),

flows as (
    select
        lending.new_commune_code,
        lending.program_code,
        lending.funding_source,
        lending.scenario,
        lending.plan_year,
        coalesce(opening.outstanding_principal, 0) as plan_opening_principal,
        coalesce(opening.overdue_principal, 0) as plan_opening_overdue,
        lending.demand_disbursement,
        lending.new_disbursement,
        lending.collections,
        lending.capital_allocated,
        case when lending.new_disbursement = lending.demand_disbursement then coalesce(demand.planned_households, 0)
            else cast(
                    round(
                        demand.planned_households * cast(lending.new_disbursement as double)
                        / lending.demand_disbursement
                    )
                    as bigint
                )
        end as planned_households,
        case when lending.new_disbursement = lending.demand_disbursement then coalesce(demand.planned_beneficiaries, 0)
            else cast(
                    round(
                        demand.planned_beneficiaries * cast(lending.new_disbursement as double)
                        / lending.demand_disbursement
                    )
                    as bigint
                )
        end as planned_beneficiaries
    from {{ ref('int_plan__scenario_lending') }} as lending
    left join opening
        on opening.new_commune_code = lending.new_commune_code
        and opening.program_code = lending.program_code
        and opening.funding_source = lending.funding_source
    left join {{ ref('int_plan__new_lending') }} as demand
        on demand.new_commune_code = lending.new_commune_code
        and demand.program_code = lending.program_code
        and demand.funding_source = lending.funding_source
        and demand.plan_year = lending.plan_year
),

running as (
    select
        flows.*,
        flows.plan_opening_principal + sum(flows.new_disbursement - flows.collections) over (
            partition by flows.new_commune_code, flows.program_code, flows.funding_source, flows.scenario
            order by flows.plan_year
            rows between unbounded preceding and current row
        ) as closing_principal
    from flows
)

select
    running.scenario,
    running.plan_year,
    offices.province_code,
    offices.transaction_office_code,
    running.new_commune_code,
    running.program_code,
    running.funding_source,
    running.closing_principal - running.new_disbursement + running.collections as opening_principal,
    running.collections,
    running.demand_disbursement,
    running.new_disbursement,
    least(running.collections, running.new_disbursement) as relending,
    running.capital_allocated,
    running.closing_principal,
    running.new_disbursement - running.collections as capital_needed,
    running.plan_opening_overdue as overdue_at_plan_start,
    running.planned_households,
    running.planned_beneficiaries
from running
inner join {{ ref('int_plan__commune_offices') }} as offices on offices.new_commune_code = running.new_commune_code
