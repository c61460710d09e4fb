{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Centralised exam results with the exam's subject, grade and statutory minimum (grade 9: 10 %, grade 12: 20 %).
select
    cast(r.school_year as integer) as school_year,
    cast(r.learner_id as varchar) as learner_id,
    cast(r.institution_id as varchar) as institution_id,
    cast(r.exam_code as varchar) as exam_code,
    cast(e.subject_code as varchar) as subject_code,
    cast(e.exam_grade as integer) as exam_grade,
    cast(r.exam_level as varchar) as exam_level,
    cast(r.exam_date as date) as exam_date,
    cast(r.score_pct as double) as score_pct,
    cast(e.threshold_pct as double) as threshold_pct,
    cast(r.score_pct < e.threshold_pct as boolean) as is_below_threshold
from {{ ref('stg_exams__results') }} as r
left join {{ ref('exam_subjects') }} as e on e.exam_code = r.exam_code
where 1 = 1 {{ school_year_filter('r.school_year') }}
