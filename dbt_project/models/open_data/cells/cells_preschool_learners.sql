-- Dataset 2: children in pre-school programmes on the reference date, by age in full years on that date (0-6,
-- '7' = 7 and older) and sex, at every level. Same base rows as cells_preschool_programmes (od_enrolments).
-- The birth date comes from the learner's latest VIIS record up to that school year (its own year's, else the
-- last before it): a later year's record never changes a published year, so loading a new school year leaves
-- the earlier years' cells, and their disclosure control (sdc_cell_status), as they were (macro learner_as_of).
with base as (
    select e.school_year, e.municipality_code, e.institution_id,
        cast(least(greatest({{ od_age_on('b.birth_date', 'e.reference_date') }}, 0), 7) as varchar) as vecums,
        {{ od_sex('e.sex') }} as dzimums
    from ({{ od_enrolments(['PIRMSSKOLA']) }}) as e
    {{ learner_as_of('b', 'e.learner_id', 'e.school_year') }}
),
c as (
    {{ od_cube('base', ['vecums', 'dzimums'], 'count(*) as izglitojamo_skaits') }}
),
cells as (
    select
        {{ od_geography() }},
        c.vecums,
        c.dzimums,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits
    from c
    {{ od_geography_joins() }}
)
select *,
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'vecums', 'dzimums']) }} as _row_key
from cells
