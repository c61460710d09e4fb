{#- One row per OUTCOME school year t x teacher x origin institution: every teacher of int_teacher_years on the
    reference date of t-1, and whether they hold a teaching post anywhere on the reference date of t. Attrition is
    reported in t, so a new year never changes an earlier year's rows. Rows exist only for years t whose own
    staff data is loaded. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='school_year',
    on_schema_change='fail',
    tags=['yearly'],
) }}

with loaded_years as (
    select distinct s.school_year
    from {{ ref('fct_staff_assignments') }} as s
    where 1 = 1 {{ school_year_filter('s.school_year') }}
        and exists (select 1 from {{ ref('fct_staff_assignments') }} as p where p.school_year = s.school_year - 1)
),

origin as (
    select school_year + 1 as outcome_year, staff_id, institution_id, municipality_code
    from {{ ref('int_teacher_years') }}
    where 1 = 1 {{ school_year_filter('(school_year + 1)') }}
),

teaching_next as (
    select distinct school_year, staff_id
    from {{ ref('int_teacher_years') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
)

select
    cast(o.outcome_year as integer) as school_year,
    o.staff_id,
    o.institution_id as origin_institution_id,
    o.municipality_code as origin_municipality_code,
    n.staff_id is not null as still_teaching
from origin as o
join loaded_years as y on y.school_year = o.outcome_year
left join teaching_next as n on n.school_year = o.outcome_year and n.staff_id = o.staff_id
