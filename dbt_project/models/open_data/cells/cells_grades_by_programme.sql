-- Dataset 11: general-education learners (int_learner_years, grades 1-12: one row per learner and institution
-- in the year) with at least one numeric year-end mark there, by the learner's programme (int_learner_years)
-- and sex, at every level: the learners, the mean of their numeric year-end marks (all marks, not a mean of
-- means), the learners with at least one numeric year-end mark below 4 and their share (%).
-- An institution with pupils but no year-end marks at all in the year (its school system sent none): one
-- institution row, totals only, _not_available (-> 'x'); it is absent from the municipality and country totals.
-- The year-end mark counts come from int_learner_years (one scan of fct_grades there), not from the 67 M marks.
with learners as (
    select school_year, municipality_code, institution_id, learner_id, programme_code, sex,
        n_year_marks, n_numeric_year, sum_numeric_year, n_fail_year
    from {{ ref('int_learner_years') }}
    where grade between 1 and 12 {{ school_year_filter('school_year') }}
),
base as (
    select school_year, municipality_code, institution_id,
        programme_code as programmas_kods,
        {{ od_sex('sex') }} as dzimums,
        n_numeric_year as n_marks, sum_numeric_year as sum_marks, n_fail_year as n_insufficient
    from learners
    where n_numeric_year > 0
),
c as (
    {{ od_cube('base', ['programmas_kods', 'dzimums'],
        'count(*) as izglitojamo_skaits, sum(sum_marks) as sum_marks, sum(n_marks) as n_marks,
         count(*) filter (where n_insufficient > 0) as nepietiekami') }}
),
not_available as (
    select school_year, municipality_code, institution_id
    from learners
    group by all
    having sum(n_year_marks) = 0
),
rows as (
    select school_year, limenis, municipality_code, institution_id, programmas_kods, dzimums,
        izglitojamo_skaits, cast(sum_marks as double) / n_marks as videjais_vertejums, nepietiekami,
        100.0 * nepietiekami / nullif(izglitojamo_skaits, 0) as nepietiekamo_ipatsvars, false as _not_available
    from c
    union all
    select school_year, 'iestāde', municipality_code, institution_id, 'Kopā', 'Kopā',
        null, null, null, null, true
    from not_available
),
cells as (
    select
        {{ od_geography() }},
        c.programmas_kods,
        p.programme_name as programma,
        c.dzimums,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits,
        cast(c.videjais_vertejums as double) as videjais_vertejums,
        cast(c.nepietiekami as bigint) as nepietiekami,
        cast(c.nepietiekamo_ipatsvars as double) as nepietiekamo_ipatsvars,
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
