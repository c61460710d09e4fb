{#- Fails on every combination of `columns` that occurs more than once (nulls compare equal, as in a key).
    Usage (model or seed level):
      data_tests:
        - unique_combination: {arguments: {columns: [school_year, learner_id]}} -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
