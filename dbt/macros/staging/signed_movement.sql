{# Principal a ledger row moves into (+) or out of (-) a balance bucket. #}
{% macro signed_movement(bucket) %}
    (case when to_bucket = '{{ bucket }}' then principal_amount else 0 end
     - case when from_bucket = '{{ bucket }}' then principal_amount else 0 end)
{% endmacro %}
