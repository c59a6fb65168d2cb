{#- Where a group or a loan sits on the 2025 map, one rule for both (int_groups__new_commune,
    int_loans__new_commune): the new commune its own latest row after the reorganisation carries
    (`latest`: new_commune_code); without one, its registered commune if that is already a new one,
    else the old commune's default successor (`successor`: a crosswalk row), flagged is_allocated
    when that old commune was split. `registered` is the register row (commune_code, commune_era);
    the era decides here, in the select: a join condition on one side only makes a nested-loop join.
    Renders the columns new_commune_code and is_allocated. -#}
{% macro restated_on_new_commune(registered, latest='latest_new_commune', successor='default_successor') %}
    coalesce(
        {{ latest }}.new_commune_code,
        case
            when {{ registered }}.commune_era = 'new' then {{ registered }}.commune_code
            else {{ successor }}.new_commune_code
        end
    ) as new_commune_code,
    ({{ latest }}.new_commune_code is null
        and {{ registered }}.commune_era = 'old'
        and coalesce({{ successor }}.is_split, false)) as is_allocated
{%- endmacro %}
