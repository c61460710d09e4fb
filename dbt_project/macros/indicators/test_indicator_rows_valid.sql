{#- One query per indicator table: the key (indicator, level, unit, school year, dimensions) is unique and
    complete, the level is one of the three, and value is consistent with numerator/denominator. -#}
{% test indicator_rows_valid(model, dimension_columns) %}
{%- set key = ['indicator_id', 'level', 'unit_code', 'school_year'] + dimension_columns -%}
select {{ key | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ key | join(', ') }}
having count(*) > 1
    or bool_or(level not in ('institution', 'municipality', 'national'))
    {%- for c in key %}
    or bool_or({{ c }} is null)
    {%- endfor %}
    or bool_or(denominator < 0 or numerator < 0)
{% endtest %}
