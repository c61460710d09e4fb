{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Learners on the reference date of the school year (var reference_day, default 1 September): one row per
-- spell active then (start <= ref <= coalesce(end, ref)). A learner with two active spells (two programmes,
-- or an overlap the registry let through) has two rows: counts of learners use count(distinct learner_id)
-- where that matters. education_level: general education by grade (1-6 primary, 7-9 lower_secondary,
-- 10-12 upper_secondary), otherwise the programme kind's level (pre_primary, upper_secondary, tertiary, ...).
with spells as (
    select *, {{ reference_date('school_year') }} as reference_date
    from {{ ref('fct_enrolment_spells') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
)
select
    cast(s.school_year as integer) as school_year,
    cast(s.reference_date as date) as reference_date,
    cast(s.learner_id as varchar) as learner_id,
    cast(s.institution_id as varchar) as institution_id,
    cast(s.programme_code as varchar) as programme_code,
    cast(s.programme_kind as varchar) as programme_kind,
    cast(case
        when s.grade between 1 and 6 then 'primary'
        when s.grade between 7 and 9 then 'lower_secondary'
        when s.grade between 10 and 12 then 'upper_secondary'
        else k.education_level
    end as varchar) as education_level,
    cast(s.grade as integer) as grade,
    cast(s.course as integer) as course,
    cast(s.class_id as varchar) as class_id,
    cast(l.sex as varchar) as sex,
    cast(l.birth_year as integer) as birth_year,
    cast(s.school_year - l.birth_year as integer) as age
from spells as s
left join {{ ref('programme_kinds') }} as k on k.programme_kind = s.programme_kind
{{ learner_as_of('l', 's.learner_id', 's.school_year') }}
where s.start_date <= s.reference_date and coalesce(s.end_date, s.reference_date) >= s.reference_date
