{#- A learner's sex and birth year (date) as of a school year: from their latest VIIS record up to that year (the year's
    own record, else the last before it), as an ASOF join on stg_viis__learners (unique per school year x
    learner). The yearly models take them from here, not from dim_learners (the latest record of ALL years):
    a later year's record, e.g. one that fills in a quarantined earlier record, then never changes an earlier
    year's rows, and a full rebuild gives exactly what the year-by-year builds gave
    (tests/integration/test_incremental.py). Usage, after FROM <relation> AS x:
        {{ learner_as_of('l', 'x.learner_id', 'x.school_year') }}   -- then l.sex, l.birth_year, l.birth_date -#}
{% macro learner_as_of(alias, learner_id, school_year) -%}
asof left join (
    select school_year as _as_of_year, learner_id as _as_of_learner_id, sex, birth_year, birth_date
    from {{ ref('stg_viis__learners') }}
) as {{ alias }}
    on {{ alias }}._as_of_learner_id = {{ learner_id }} and {{ alias }}._as_of_year <= {{ school_year }}
{%- endmacro %}
