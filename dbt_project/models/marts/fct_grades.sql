{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Marks of both school systems in one shape (codes harmonised in staging).
with marks as (
    select *, 'vendor_a' as source from {{ ref('stg_vendor_a__grades') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    union all by name
    select *, 'vendor_b' as source from {{ ref('stg_vendor_b__grades') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
)
select
    cast(school_year as integer) as school_year,
    cast(institution_id as varchar) as institution_id,
    cast(learner_id as varchar) as learner_id,
    cast(grade as integer) as grade,
    cast(subject_code as varchar) as subject_code,
    cast(period as varchar) as period,
    cast(mark as varchar) as mark,
    cast(mark_value as integer) as mark_value,
    cast(is_numeric as boolean) as is_numeric,
    cast(source as varchar) as source
from marks
