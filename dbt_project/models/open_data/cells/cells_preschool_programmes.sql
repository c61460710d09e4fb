-- Dataset 5: learners in pre-school programmes on the reference date, by programme, at every level. Same base
-- rows as cells_preschool_learners (od_enrolments): institution total = sum over programmes = the total there.
with base as (
    select school_year, municipality_code, institution_id,
        programme_code as programmas_kods
    from ({{ od_enrolments(['PIRMSSKOLA']) }})
),
c as (
    {{ od_cube('base', ['programmas_kods'], 'count(*) as izglitojamo_skaits') }}
),
cells as (
    select
        {{ od_geography() }},
        c.programmas_kods,
        p.programme_name as programma,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits
    from c
    {{ od_geography_joins() }}
    left join {{ ref('dim_programmes') }} as p on p.programme_code = c.programmas_kods
)
select *,
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'programmas_kods']) }} as _row_key
from cells
