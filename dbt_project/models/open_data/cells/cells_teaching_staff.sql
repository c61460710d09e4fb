-- Dataset 9: teaching staff (every post of the VIIS staff feed) of pre-school, general and vocational
-- institutions on the reference date, by post and sex, at every level. One person per institution: counted under
-- the post with the largest FTE there (ties: the smaller post code); slodzes = the person's FTE over all posts
-- there. FTE summed as DECIMAL so the sums are exact and independent of the summation order.
with posts as (
    select school_year, institution_id, staff_id, post_code,
        sum(cast(fte as decimal(18, 4))) as fte, min(sex) as sex
    from {{ ref('fct_staff_assignments') }}
    where active_on_reference_date {{ school_year_filter('school_year') }}
    group by all
),
persons as (
    select p.school_year, i.municipality_code, p.institution_id,
        p.post_code as amats,
        {{ od_sex('p.sex') }} as dzimums,
        sum(p.fte) over (partition by p.school_year, p.institution_id, p.staff_id) as fte
    from posts as p
    join {{ ref('dim_institutions') }} as i
        on i.school_year = p.school_year and i.institution_id = p.institution_id
    where i.institution_kind in ('Pirmsskolas izglītības iestāde', 'Vispārējās izglītības iestāde',
        'Speciālās izglītības iestāde', 'Profesionālās pamata un vidējās izglītības iestāde')
    qualify row_number() over (
        partition by p.school_year, p.institution_id, p.staff_id order by p.fte desc, p.post_code) = 1
),
c as (
    {{ od_cube('persons', ['amats', 'dzimums'], 'count(*) as personu_skaits, sum(fte) as slodzes') }}
),
cells as (
    select
        {{ od_geography() }},
        c.amats,
        c.dzimums,
        cast(c.personu_skaits as bigint) as personu_skaits,
        cast(c.slodzes as double) as slodzes
    from c
    {{ od_geography_joins() }}
)
select *,
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'amats', 'dzimums']) }} as _row_key
from cells
