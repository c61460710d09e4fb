-- Dataset 4: learners in vocational programmes on the reference date, by course and sex, at every level. Same
-- base rows as cells_vocational_programmes (od_enrolments): the shared cells agree.
with base as (
    select school_year, municipality_code, institution_id,
        cast(course as varchar) as kurss,
        {{ od_sex('sex') }} as dzimums
    from ({{ od_enrolments(['PROFESIONALA']) }})
),
c as (
    {{ od_cube('base', ['kurss', 'dzimums'], 'count(*) as izglitojamo_skaits') }}
),
cells as (
    select
        {{ od_geography() }},
        c.kurss,
        c.dzimums,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits
    from c
    {{ od_geography_joins() }}
)
select *,
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'kurss', 'dzimums']) }} as _row_key
from cells
