{#- One row per school year x general-education pupil x institution where the pupil had a grade 1-12 spell.
    The heavy facts are scanned once each here (absences, grades, planned lessons aggregated per school year x
    institution x learner, then joined), so the indicators never touch them again. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='school_year',
    on_schema_change='fail',
    tags=['yearly'],
) }}

with spells as (
    select
        school_year, learner_id, institution_id, grade, class_id, programme_code, start_date, end_date,
        start_date <= {{ reference_date('school_year') }}
            and {{ reference_date('school_year') }} <= coalesce(end_date, {{ reference_date('school_year') }})
            as active_on_reference_date
    from {{ ref('fct_enrolment_spells') }}
    where grade between 1 and 12 {{ school_year_filter('school_year') }}
),

-- The spell that describes the pupil at this institution: the one active on the reference date if any, else
-- the latest one (deterministic tie-breaks).
pupil_institution as (
    select
        school_year, learner_id, institution_id, grade, class_id, programme_code,
        active_on_reference_date as on_reference_date  -- an active spell sorts first, so this is "any active"
    from spells
    qualify row_number() over (
        partition by school_year, learner_id, institution_id
        order by active_on_reference_date desc, start_date desc, end_date desc nulls first, grade desc, programme_code
    ) = 1
),

planned as (
    select school_year, institution_id, learner_id, sum(lessons_planned) as lessons_planned
    from {{ ref('fct_planned_lessons') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
),

absences as (
    select
        school_year, institution_id, learner_id,
        sum(lessons_missed) as missed_total,
        sum(lessons_missed) filter (where reason = 'illness') as missed_illness,
        sum(lessons_missed) filter (where reason = 'other_justified') as missed_other,
        sum(lessons_missed) filter (where reason = 'unexcused') as missed_unexcused,
        sum(lessons_missed) filter (where reason = 'unexcused' and month(absence_date) >= 9) as missed_unexcused_s1,
        sum(lessons_missed) filter (where reason = 'unexcused' and month(absence_date) <= 8) as missed_unexcused_s2
    from {{ ref('fct_absences') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
),

year_marks as (
    select
        school_year, institution_id, learner_id,
        count(*) as n_year_marks,
        count(*) filter (where is_numeric) as n_numeric_year,
        sum(mark_value) filter (where is_numeric) as sum_numeric_year,
        count(*) filter (where is_numeric and mark_value <= 3) as n_fail_year,
        count(*) filter (where mark = 'nv') as n_nv_year
    from {{ ref('fct_grades') }}
    where period = 'YEAR' {{ school_year_filter('school_year') }}
    group by all
),

-- Declared address of the learner in that school year's register extract -> point and harmonised municipality.
-- The ATVK code is harmonised by the project's one SQL mirror of territory.harmonise_atvk, applied to the few
-- distinct codes only, then joined back on equality.
addresses as (
    select school_year, address_code, atvk_code, lat, lon
    from {{ ref('stg_vzd__addresses') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),

atvk_map as (
    select a.atvk_code, {{ harmonise_atvk('a.atvk_code') }} as municipality_code
    from (select distinct atvk_code from addresses where atvk_code is not null) as a
),

homes as (
    select l.school_year, l.learner_id, a.lat, a.lon, m.municipality_code as home_municipality_code
    from {{ ref('stg_viis__learners') }} as l
    join addresses as a on a.school_year = l.school_year and a.address_code = l.declared_address_code
    left join atvk_map as m on m.atvk_code = a.atvk_code
    where 1 = 1 {{ school_year_filter('l.school_year') }}
    qualify row_number() over (partition by l.school_year, l.learner_id order by a.address_code) = 1
)

select
    p.school_year,
    p.learner_id,
    p.institution_id,
    i.municipality_code,
    p.grade,
    p.class_id,
    p.programme_code,
    d.sex,
    d.birth_year,
    p.school_year - d.birth_year as age,
    p.on_reference_date,
    cast(coalesce(pl.lessons_planned, 0) as bigint) as lessons_planned,
    cast(coalesce(ab.missed_total, 0) as bigint) as missed_total,
    cast(coalesce(ab.missed_illness, 0) as bigint) as missed_illness,
    cast(coalesce(ab.missed_other, 0) as bigint) as missed_other,
    cast(coalesce(ab.missed_unexcused, 0) as bigint) as missed_unexcused,
    cast(coalesce(ab.missed_unexcused_s1, 0) as bigint) as missed_unexcused_s1,
    cast(coalesce(ab.missed_unexcused_s2, 0) as bigint) as missed_unexcused_s2,
    cast(coalesce(ym.n_year_marks, 0) as bigint) as n_year_marks,
    cast(coalesce(ym.n_numeric_year, 0) as bigint) as n_numeric_year,
    cast(coalesce(ym.sum_numeric_year, 0) as bigint) as sum_numeric_year,
    cast(coalesce(ym.n_fail_year, 0) as bigint) as n_fail_year,
    cast(coalesce(ym.n_nv_year, 0) as bigint) as n_nv_year,
    h.home_municipality_code,
    -- Haversine great-circle distance, mean Earth radius R = 6371.0088 km (IUGG); null if either point is unknown
    -- (explicitly: DuckDB's least() skips nulls, so the clamp against rounding above 1 must not see one).
    case when h.lat is not null and h.lon is not null and i.lat is not null and i.lon is not null then
        2 * 6371.0088 * asin(least(1.0, sqrt(
            pow(sin(radians(i.lat - h.lat) / 2), 2)
            + cos(radians(h.lat)) * cos(radians(i.lat)) * pow(sin(radians(i.lon - h.lon) / 2), 2)
        )))
    end as distance_km
from pupil_institution as p
left join {{ ref('dim_institutions') }} as i
    on i.school_year = p.school_year and i.institution_id = p.institution_id
{{ learner_as_of('d', 'p.learner_id', 'p.school_year') }}
left join planned as pl
    on pl.school_year = p.school_year and pl.institution_id = p.institution_id and pl.learner_id = p.learner_id
left join absences as ab
    on ab.school_year = p.school_year and ab.institution_id = p.institution_id and ab.learner_id = p.learner_id
left join year_marks as ym
    on ym.school_year = p.school_year and ym.institution_id = p.institution_id and ym.learner_id = p.learner_id
left join homes as h on h.school_year = p.school_year and h.learner_id = p.learner_id
