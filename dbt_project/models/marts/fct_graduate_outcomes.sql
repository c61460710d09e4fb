{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Graduates of school year t (partition t, graduation_year = t+1) one year on. Institution and programme kind
-- come from the learner's PABEIGTS spell of t ending in June in a VIDEJA / PROFESIONALA / AUGSTAKA programme;
-- with several, the highest level (programme_kinds.level_rank), then the latest end date. Null if none.
with outcomes as (
    select * from {{ ref('stg_csp__graduate_outcomes') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
completions as (
    select s.school_year, s.learner_id, s.institution_id, s.programme_kind
    from {{ ref('fct_enrolment_spells') }} as s
    left join {{ ref('programme_kinds') }} as k on k.programme_kind = s.programme_kind
    where s.end_reason = 'PABEIGTS'
      and month(s.end_date) = 6
      and s.programme_kind in ('VIDEJA', 'PROFESIONALA', 'AUGSTAKA')
      {{ school_year_filter('s.school_year') }}
    qualify row_number() over (
        partition by s.school_year, s.learner_id
        order by k.level_rank desc, s.end_date desc, s.institution_id) = 1
)
select
    cast(o.school_year as integer) as school_year,
    cast(o.learner_id as varchar) as learner_id,
    cast(o.graduation_year as integer) as graduation_year,
    cast(c.institution_id as varchar) as institution_id,
    cast(c.programme_kind as varchar) as programme_kind,
    cast(o.employed as boolean) as employed,
    cast(o.annual_income as double) as annual_income,
    cast(o.continuing_study as boolean) as continuing_study,
    cast(o.emigrated as boolean) as emigrated
from outcomes as o
left join completions as c on c.school_year = o.school_year and c.learner_id = o.learner_id
