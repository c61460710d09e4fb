{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Staff posts of the school year. Teachers = post PEDAGOGS; active_on_reference_date: start <= ref <= end (open end).
select
    cast(p.school_year as integer) as school_year,
    cast(p.staff_id as varchar) as staff_id,
    cast(p.institution_id as varchar) as institution_id,
    cast(p.post_code as varchar) as post_code,
    cast(p.subject_code as varchar) as subject_code,
    cast(p.fte as double) as fte,
    cast(p.qualification as varchar) as qualification,
    cast(p.qualification = 'ATBILST' as boolean) as is_qualified,
    cast(p.education_code as varchar) as education_code,
    cast(p.start_date as date) as start_date,
    cast(p.end_date as date) as end_date,
    cast(p.post_code = 'PEDAGOGS' as boolean) as is_teacher,
    cast(p.start_date <= {{ reference_date('p.school_year') }}
         and coalesce(p.end_date, {{ reference_date('p.school_year') }}) >= {{ reference_date('p.school_year') }}
         as boolean) as active_on_reference_date,
    cast(p.sex as varchar) as sex,
    cast(p.birth_year as integer) as birth_year,
    cast(p.school_year - p.birth_year as integer) as age
from {{ ref('stg_viis__staff_posts') }} as p
where 1 = 1 {{ school_year_filter('p.school_year') }}
