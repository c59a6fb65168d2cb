{#- Rows where a boolean SQL expression over the model's columns does not hold. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
