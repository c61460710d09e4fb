-- Dataset 10: the register of institutions, one row per school year and institution (public facts about
-- institutions, no persons). Municipality = the harmonised current one; coordinates from the VZD address.
with addresses as (
    select school_year, institution_id, address
    from {{ ref('stg_viis__institutions') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    qualify row_number() over (
        partition by school_year, institution_id order by _source_file desc, _source_line desc) = 1
),
cells as (
    select
        {{ od_school_year('i.school_year') }} as macibu_gads,
        i.institution_id as iestades_kods,
        i.institution_name as iestade,
        i.institution_kind as veids,
        i.institution_type as tips,
        i.founder as dibinatajs,
        i.municipality_code as pasvaldibas_kods,
        m.municipality_name as pasvaldiba,
        cast(a.address as varchar) as adrese,
        cast(i.lat as double) as platums,
        cast(i.lon as double) as garums,
        cast(i.closed_date as date) as likvidacijas_datums
    from {{ ref('dim_institutions') }} as i
    left join {{ ref('dim_municipalities') }} as m on m.municipality_code = i.municipality_code
    left join addresses as a on a.school_year = i.school_year and a.institution_id = i.institution_id
    where 1 = 1 {{ school_year_filter('i.school_year') }}
)
select *,
    {{ od_row_key(['macibu_gads', 'iestades_kods']) }} as _row_key
from cells
