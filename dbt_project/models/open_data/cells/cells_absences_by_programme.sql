-- Dataset 12: general-education learners (int_learner_years, grades 1-12: one row per learner and institution
-- in the year) who missed at least one lesson there, by the learner's programme and sex, at every level: the
-- learners, their missed lessons in total and by reason (columns, so a learner missing for two reasons is one
-- person and every breakdown adds up), and missed lessons per such learner.
-- An institution with pupils but neither planned lessons nor absences in the year (its school system sent no
-- attendance data): one institution row, totals only, _not_available (-> 'x'); absent from the totals above it.
with learners as (
    select school_year, municipality_code, institution_id, programme_code, sex,
        coalesce(lessons_planned, 0) as lessons_planned,
        coalesce(missed_total, 0) as missed_total,
        coalesce(missed_illness, 0) as missed_illness,
        coalesce(missed_other, 0) as missed_other,
        coalesce(missed_unexcused, 0) as missed_unexcused
    from {{ ref('int_learner_years') }}
    where grade between 1 and 12 {{ school_year_filter('school_year') }}
),
base as (
    select school_year, municipality_code, institution_id,
        programme_code as programmas_kods,
        {{ od_sex('sex') }} as dzimums,
        missed_total, missed_illness, missed_other, missed_unexcused
    from learners
    where missed_total > 0
),
c as (
    {{ od_cube('base', ['programmas_kods', 'dzimums'],
        'count(*) as izglitojamo_skaits, sum(missed_total) as kavetas_stundas,
         sum(missed_illness) as kavetas_stundas_slimiba, sum(missed_other) as kavetas_stundas_citi_attaisnoti,
         sum(missed_unexcused) as kavetas_stundas_neattaisnoti') }}
),
not_available as (
    select school_year, municipality_code, institution_id
    from learners
    group by all
    having sum(lessons_planned) = 0 and sum(missed_total) = 0
),
rows as (
    select school_year, limenis, municipality_code, institution_id, programmas_kods, dzimums,
        izglitojamo_skaits, kavetas_stundas, kavetas_stundas_slimiba, kavetas_stundas_citi_attaisnoti,
        kavetas_stundas_neattaisnoti,
        cast(kavetas_stundas as double) / nullif(izglitojamo_skaits, 0) as kavetas_stundas_uz_izglitojamo,
        false as _not_available
    from c
    union all
    select school_year, 'iestāde', municipality_code, institution_id, 'Kopā', 'Kopā',
        null, null, null, null, null, null, true
    from not_available
),
cells as (
    select
        {{ od_geography() }},
        c.programmas_kods,
        p.programme_name as programma,
        c.dzimums,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits,
        cast(c.kavetas_stundas as bigint) as kavetas_stundas,
        cast(c.kavetas_stundas_slimiba as bigint) as kavetas_stundas_slimiba,
        cast(c.kavetas_stundas_citi_attaisnoti as bigint) as kavetas_stundas_citi_attaisnoti,
        cast(c.kavetas_stundas_neattaisnoti as bigint) as kavetas_stundas_neattaisnoti,
        cast(c.kavetas_stundas_uz_izglitojamo as double) as kavetas_stundas_uz_izglitojamo,
        cast(c._not_available as boolean) as _not_available
    from rows as c
    {{ od_geography_joins() }}
    left join {{ ref('dim_programmes') }} as p on p.programme_code = c.programmas_kods
)
select * exclude (_not_available),
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'programmas_kods', 'dzimums']) }}
        as _row_key,
    _not_available
from cells
