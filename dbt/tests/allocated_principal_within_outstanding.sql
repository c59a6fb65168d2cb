{{ config(meta={"dagster": {"ref": {"name": "mart_outstanding_balance"}}}) }}
-- The principal a split commune's balance sends to its default successor is part of that balance.
select
    as_of_date, transaction_office_code, new_commune_code, program_code, funding_source, organisation_code,
    allocated_principal, outstanding_principal
from {{ ref('mart_outstanding_balance') }}
where allocated_principal > outstanding_principal
