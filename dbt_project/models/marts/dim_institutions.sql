-- Institutions per school year with the harmonised current municipality (pre-2021 codes -> successor, current
-- sub-unit codes -> their unit) and the coordinates of the address (same school year, else the latest year
-- that knows the address code).
with inst as (
    select * from {{ ref('stg_viis__institutions') }}
),
addr as (
    select address_code, school_year, lat, lon from {{ ref('stg_vzd__addresses') }}
),
addr_any as (
    select address_code, lat, lon from addr
    qualify row_number() over (partition by address_code order by school_year desc) = 1
),
muni as (
    select distinct i.atvk_code, {{ harmonise_atvk('i.atvk_code') }} as municipality_code from inst as i
)
select
    cast(i.school_year as integer) as school_year,
    cast(i.institution_id as varchar) as institution_id,
    cast(i.institution_name as varchar) as institution_name,
    cast(i.institution_kind as varchar) as institution_kind,
    cast(i.institution_type as varchar) as institution_type,
    cast(i.founder_type as varchar) as founder_type,
    cast(i.founder as varchar) as founder,
    cast(i.atvk_code as varchar) as source_atvk_code,
    cast(m.municipality_code as varchar) as municipality_code,
    cast(i.address_code as varchar) as address_code,
    cast(coalesce(a.lat, aa.lat) as double) as lat,
    cast(coalesce(a.lon, aa.lon) as double) as lon,
    cast(i.closed_date as date) as closed_date,
    cast(i.email as varchar) as email,
    cast(i.institution_kind in ('Vispārējās izglītības iestāde', 'Speciālās izglītības iestāde') as boolean)
        as is_general_school
from inst as i
left join muni as m on m.atvk_code = i.atvk_code
left join addr as a on a.address_code = i.address_code and a.school_year = i.school_year
left join addr_any as aa on aa.address_code = i.address_code
