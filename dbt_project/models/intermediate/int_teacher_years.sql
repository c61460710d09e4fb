{#- One row per school year x teacher x institution: teaching posts (is_teacher) active on the reference date.
    teaches_next_year of the interface is NOT here: it depends on year t+1, and materializing t+1 must not
    change year t's rows; the indicators read int_teacher_transitions (the outcome-year form) instead. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='school_year',
    on_schema_change='fail',
    tags=['yearly'],
) }}

with posts as (
    select
        school_year, staff_id, institution_id,
        cast(sum(fte) as double) as fte,
        coalesce(bool_or(is_qualified), false) as is_qualified,
        min(sex) as sex,
        min(age) as age
    from {{ ref('fct_staff_assignments') }}
    where is_teacher and active_on_reference_date {{ school_year_filter('school_year') }}
    group by all
)

select
    p.school_year,
    p.staff_id,
    p.institution_id,
    i.municipality_code,
    p.fte,
    p.is_qualified,
    p.sex,
    p.age,
    cast(count(*) over (partition by p.school_year, p.staff_id) as integer) as n_institutions
from posts as p
left join {{ ref('dim_institutions') }} as i
    on i.school_year = p.school_year and i.institution_id = p.institution_id
