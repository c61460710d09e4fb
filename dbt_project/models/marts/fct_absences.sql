{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Missed lessons per pupil, institution, day and reason. Vendor A sends one row per lesson (counted here);
-- vendor B one row per day and reason with the count.
with a as (
    select school_year, institution_id, learner_id, absence_date, reason, count(*) as lessons_missed
    from {{ ref('stg_vendor_a__absences') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
),
b as (
    select school_year, institution_id, learner_id, absence_date, reason, sum(lessons_missed) as lessons_missed
    from {{ ref('stg_vendor_b__attendance') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
),
u as (
    select * from a
    union all
    select * from b
)
select
    cast(school_year as integer) as school_year,
    cast(institution_id as varchar) as institution_id,
    cast(learner_id as varchar) as learner_id,
    cast(absence_date as date) as absence_date,
    cast(reason as varchar) as reason,
    cast(lessons_missed as integer) as lessons_missed
from u
