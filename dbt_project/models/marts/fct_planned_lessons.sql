{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
with u as (
    select school_year, institution_id, learner_id, month, lessons_planned
    from {{ ref('stg_vendor_a__planned_lessons') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    union all
    select school_year, institution_id, learner_id, month, lessons_planned
    from {{ ref('stg_vendor_b__planned_lessons') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
)
select
    cast(school_year as integer) as school_year,
    cast(institution_id as varchar) as institution_id,
    cast(learner_id as varchar) as learner_id,
    cast(month as date) as month,
    cast(lessons_planned as integer) as lessons_planned
from u
