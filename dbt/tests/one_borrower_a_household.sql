{{ config(meta={"dagster": {"ref": {"name": "stg_branch__borrowers"}}}) }}
-- A household borrows as one borrower: the certified lists name households, and eligibility
-- (mart_eligibility_exceptions) follows a loan to its household through its one borrower.
select household_id, count(*) as borrowers
from {{ ref('stg_branch__borrowers') }}
where household_id is not null
group by household_id
having count(*) > 1
