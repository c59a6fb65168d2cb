-- Monthly 100-point score of each Savings and Loan Group. Each criterion's ratio earns its points
-- linearly between the seed's zero-points and full-points thresholds; the score's band is its rating.
{% set criteria = [
    'members_with_savings', 'overdue_ratio', 'interest_collection',
    'principal_collection', 'savings_growth', 'attendance'
] %}
with measures as (
    select
        group_id,
        as_of_date,
        member_count,
        depositing_members,
        overdue_principal,
        outstanding_principal,
        interest_collected,
        interest_due,
        principal_repaid,
        principal_due,
        principal_collected_of_due,
        savings_deposited,
        savings_deposited_previous_month,
        attended_session,
        case when member_count > 0 then cast(depositing_members as decimal(38, 12)) / member_count else 0 end
            as members_with_savings,
        case
            when outstanding_principal > 0 then cast(overdue_principal as decimal(38, 12)) / outstanding_principal
            else 0
        end as overdue_ratio,
        -- nothing due means nothing was missed: full marks
        case when interest_due > 0 then cast(interest_collected as decimal(38, 12)) / interest_due else 1 end
            as interest_collection,
        -- as mart_debt_quality counts it: repaid from current, of the instalments due (extensions moved)
        case when principal_due > 0 then cast(principal_collected_of_due as decimal(38, 12)) / principal_due else 1 end
            as principal_collection,
        case
            when savings_deposited_previous_month > 0
                then cast(savings_deposited as decimal(38, 12)) / savings_deposited_previous_month
            when savings_deposited > 0 then 1
            else 0
        end as savings_growth,
        cast(attended_session as decimal(38, 12)) as attendance
    from {{ ref('int_group_months') }}
),

criterion_values as (
    {% for criterion in criteria %}
        select group_id, as_of_date, '{{ criterion }}' as criterion_code, {{ criterion }} as criterion_value
        from measures
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

criterion_points as (
    select
        v.group_id,
        v.as_of_date,
        v.criterion_code,
        c.max_points * case
            when (v.criterion_value - c.zero_points_at) / (c.full_points_at - c.zero_points_at) >= 1 then 1
            when (v.criterion_value - c.zero_points_at) / (c.full_points_at - c.zero_points_at) <= 0 then 0
            else (v.criterion_value - c.zero_points_at) / (c.full_points_at - c.zero_points_at)
        end as points
    from criterion_values as v
    inner join {{ ref('group_score_criteria') }} as c
        on c.criterion_code = v.criterion_code and v.as_of_date between c.valid_from and c.valid_to
),

scores as (
    select
        group_id,
        as_of_date,
        {% for criterion in criteria %}
            cast(round(sum(case when criterion_code = '{{ criterion }}' then points else 0 end), 2) as decimal(7, 2))
                as {{ criterion }}_points,
        {% endfor %}
        count(*) as criteria_scored
    from criterion_points
    group by group_id, as_of_date
),

-- the score adds the rounded points, so the parts always sum to it
scored as (
    select
        scores.*,
        scores.members_with_savings_points + scores.overdue_ratio_points + scores.interest_collection_points
        + scores.principal_collection_points + scores.savings_growth_points + scores.attendance_points as score
    from scores
)

select
    m.as_of_date,
    m.group_id,
    g.organisation_code,
    g.new_commune_code,
    g.transaction_point_id,
    m.member_count,
    m.depositing_members,
    m.overdue_principal,
    m.outstanding_principal,
    m.interest_due,
    m.interest_collected,
    m.principal_due,
    m.principal_collected_of_due,
    m.principal_repaid,
    m.savings_deposited,
    m.attended_session,
    s.members_with_savings_points,
    s.overdue_ratio_points,
    s.interest_collection_points,
    s.principal_collection_points,
    s.savings_growth_points,
    s.attendance_points,
    s.score,
    b.rating
from measures as m
inner join scored as s on s.group_id = m.group_id and s.as_of_date = m.as_of_date
inner join {{ ref('int_groups__new_commune') }} as g on g.group_id = m.group_id
left join {{ ref('group_rating_bands') }} as b on s.score >= b.min_score and s.score < b.max_score
