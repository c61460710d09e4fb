-- Dataset 3: learners in general basic and secondary programmes on the reference date, by grade and sex, at
-- every level. Same base rows as cells_general_programmes (od_enrolments): the shared cells agree.
with base as (
    select school_year, municipality_code, institution_id,
        cast(grade as varchar) as klase,
        {{ od_sex('sex') }} as dzimums
    from ({{ od_enrolments(['PAMATIZGLITIBA', 'SPECIALA', 'VIDEJA']) }})
),
c as (
    {{ od_cube('base', ['klase', 'dzimums'], 'count(*) as izglitojamo_skaits') }}
),
cells as (
    select
        {{ od_geography() }},
        c.klase,
        c.dzimums,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits
    from c
    {{ od_geography_joins() }}
)
select *,
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'klase', 'dzimums']) }} as _row_key
from cells
