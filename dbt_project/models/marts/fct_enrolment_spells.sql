{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Every VIIS enrolment spell of the school year. Programme kind: the institution's licence of that year,
-- else dim_programmes (most common licence of the code, else the code pattern).
with spells as (
    select * from {{ ref('stg_viis__enrolments') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
licences as (
    select school_year, institution_id, programme_code, min(programme_kind) as programme_kind
    from {{ ref('stg_viis__programmes') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
)
select
    cast(s.school_year as integer) as school_year,
    cast(s.learner_id as varchar) as learner_id,
    cast(s.institution_id as varchar) as institution_id,
    cast(s.programme_code as varchar) as programme_code,
    cast(coalesce(l.programme_kind, p.programme_kind) as varchar) as programme_kind,
    cast(s.grade as integer) as grade,
    cast(s.course as integer) as course,
    cast(s.class_id as varchar) as class_id,
    cast(s.start_date as date) as start_date,
    cast(s.end_date as date) as end_date,
    cast(s.end_reason as varchar) as end_reason
from spells as s
left join licences as l using (school_year, institution_id, programme_code)
left join {{ ref('dim_programmes') }} as p on p.programme_code = s.programme_code
