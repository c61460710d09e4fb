{#- One row per OUTCOME school year t x learner who was a general-education pupil (grade 1-12 spell active) on
    the reference date of t-1: where they were then, how t-1 ended, and where they are on the reference date of t.
    Flow indicators (repetition, promotion, dropout, transition) read it in year t, so materializing a new year
    writes only that year's rows and never changes an earlier year's. Rows exist only for years t whose own
    enrolment data is loaded (otherwise everyone would look like a dropout). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='school_year',
    on_schema_change='fail',
    tags=['yearly'],
) }}

{%- set ref_date = reference_date('school_year') %}

with loaded_years as (
    -- outcome years t with both t and t-1 present
    select distinct s.school_year
    from {{ ref('fct_enrolment_spells') }} as s
    where 1 = 1 {{ school_year_filter('s.school_year') }}
        and exists (select 1 from {{ ref('fct_enrolment_spells') }} as p where p.school_year = s.school_year - 1)
),

-- Spells of the origin year t-1, keyed by the outcome year t.
prior_spells as (
    select
        school_year + 1 as outcome_year, learner_id, institution_id, programme_code, grade, start_date, end_date,
        end_reason,
        start_date <= {{ ref_date }} and {{ ref_date }} <= coalesce(end_date, {{ ref_date }}) as active_on_reference_date
    from {{ ref('fct_enrolment_spells') }}
    where 1 = 1 {{ school_year_filter('(school_year + 1)') }}
),

origin as (
    select outcome_year, learner_id, institution_id as origin_institution_id, grade as origin_grade
    from prior_spells
    where active_on_reference_date and grade between 1 and 12
    qualify row_number() over (
        partition by outcome_year, learner_id order by start_date desc, grade desc, institution_id
    ) = 1
),

completion as (
    select outcome_year, learner_id, grade as completed_grade, institution_id as completion_institution_id
    from prior_spells
    where end_reason = 'PABEIGTS' and grade in (9, 12)
    qualify row_number() over (
        partition by outcome_year, learner_id order by grade desc, end_date desc, institution_id
    ) = 1
),

last_spell as (
    select outcome_year, learner_id, end_reason as last_end_reason
    from prior_spells
    qualify row_number() over (
        partition by outcome_year, learner_id
        order by start_date desc, end_date desc nulls first, grade desc nulls last, institution_id, programme_code
    ) = 1
),

-- Enrolment on the reference date of t, any programme; a general-education spell (with a grade) wins.
next_enrolment as (
    select school_year, learner_id, grade as next_grade, programme_kind as next_programme_kind
    from {{ ref('fct_enrolments') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    qualify row_number() over (
        partition by school_year, learner_id
        order by grade is null, grade desc, course desc nulls last, programme_code, institution_id
    ) = 1
)

select
    cast(o.outcome_year as integer) as school_year,
    o.learner_id,
    o.origin_institution_id,
    o.origin_grade,
    i.municipality_code as origin_municipality_code,
    c.completed_grade,
    c.completion_institution_id,
    l.last_end_reason,
    n.learner_id is not null as enrolled_next,
    n.next_grade,
    n.next_programme_kind,
    d.sex
from origin as o
join loaded_years as y on y.school_year = o.outcome_year
left join {{ ref('dim_institutions') }} as i
    on i.school_year = o.outcome_year - 1 and i.institution_id = o.origin_institution_id
left join completion as c on c.outcome_year = o.outcome_year and c.learner_id = o.learner_id
left join last_spell as l on l.outcome_year = o.outcome_year and l.learner_id = o.learner_id
left join next_enrolment as n on n.school_year = o.outcome_year and n.learner_id = o.learner_id
{{ learner_as_of('d', 'o.learner_id', 'o.outcome_year') }}
