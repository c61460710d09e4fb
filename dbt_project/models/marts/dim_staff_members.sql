-- A staff member (pseudonym) of general/vocational/pre-school or higher education: latest record wins.
with people as (
    select staff_id, sex, birth_year, school_year, 1 as src, _source_line from {{ ref('stg_viis__staff_posts') }}
    union all
    select staff_id, sex, birth_year, school_year, 0 as src, _source_line from {{ ref('stg_viis__academic_staff') }}
)
select
    cast(staff_id as varchar) as staff_id,
    cast(sex as varchar) as sex,
    cast(birth_year as integer) as birth_year
from people
qualify row_number() over (partition by staff_id order by school_year desc, src desc, _source_line desc) = 1
