{#- Like `relationships`, but the parent is looked up in the SAME school year: every non-null
    (school_year, column) of the model must exist as (school_year, field) in `to` (e.g. a fact's institution
    in dim_institutions of that year). Usage on a column:
      data_tests:
        - relationships_by_year: {arguments: {to: ref('dim_institutions'), field: institution_id}} -#}
{% test relationships_by_year(model, column_name, to, field, year_column='school_year') %}
select child.{{ year_column }}, child.{{ column_name }}, count(*) as n_rows
from (select * from {{ model }}) as child  -- a subquery: `model` may itself be one (a test `where`)
where child.{{ column_name }} is not null
  and not exists (
    select 1 from {{ to }} as parent
    where parent.{{ year_column }} = child.{{ year_column }} and parent.{{ field }} = child.{{ column_name }}
  )
group by all
{% endtest %}
