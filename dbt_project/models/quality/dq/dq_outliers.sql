{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Outliers, one row per finding:
--   enrolment_jump       |modified z| > 3.5 of the year-over-year enrolment change (dq_enrolment_zscores)
--   age_for_grade        a pupil on the reference date whose age (school year - birth year) is 3+ years above
--                        or 2+ years below grade + 6 (the official age), special programmes (21015611) excluded
--   duplicate_enrolment  a learner with two or more spells active on the reference date (fct_enrolments);
--                        one row per learner and institution involved
-- learner_id is the pseudonym (internal: never leaves the warehouse).
with z as (
    select reg_nr, school_year, 'enrolment_jump' as outlier_kind, cast(null as varchar) as learner_id,
           cast(null as integer) as grade, cast(learners as double) as observed, cast(learners_prev as double) as reference,
           z as score,
           'learners ' || learners_prev || ' -> ' || learners || ', modified z ' || round(z, 2) as detail
    from {{ ref('dq_enrolment_zscores') }} where is_outlier {{ school_year_filter('school_year') }}
),
age as (
    select institution_id, school_year, 'age_for_grade', learner_id, grade, cast(age as double),
           cast(grade + 6 as double), cast(age - (grade + 6) as double),
           'grade ' || grade || ', age ' || age || ' (official ' || (grade + 6) || ')'
    from {{ ref('fct_enrolments') }}
    where grade between 1 and 12 and programme_code <> '21015611'
      and (age - (grade + 6) >= 3 or age - (grade + 6) <= -2) {{ school_year_filter('school_year') }}
),
dup as (
    select e.institution_id, e.school_year, 'duplicate_enrolment', e.learner_id, e.grade, cast(d.n as double),
           1.0, cast(d.n as double), d.n || ' spells active on ' || strftime(e.reference_date, '%Y-%m-%d')
    from {{ ref('fct_enrolments') }} as e
    join (select school_year, learner_id, count(*) as n from {{ ref('fct_enrolments') }} group by all having count(*) > 1) as d
        using (school_year, learner_id)
    where 1 = 1 {{ school_year_filter('e.school_year') }}
)
select
    cast(reg_nr as varchar) as reg_nr, cast(school_year as integer) as school_year,
    cast(outlier_kind as varchar) as outlier_kind, cast(learner_id as varchar) as learner_id,
    cast(grade as integer) as grade, cast(observed as double) as observed, cast(reference as double) as reference,
    cast(score as double) as score, cast(detail as varchar) as detail
from (select * from z union all select * from age union all select distinct * from dup)
