{# The plan's scenarios: 'demand' lends the demand capped by program limits; 'capital' lends what
   each unit can fund, its own collections relent plus its share of the new capital its province
   expects (int_plan__scenario_lending). #}
{% macro plan_scenarios() %}{{ return(['demand', 'capital']) }}{% endmacro %}

{# The plan years as compile-time numbers: from the year after var plan_opening_date through var
   plan_last_year (a capital-led year depends on the years before it, so the model steps through them). #}
{% macro plan_year_range() %}
    {{ return(range((var('plan_opening_date')[:4] | int) + 1, (var('plan_last_year') | int) + 1) | list) }}
{% endmacro %}
