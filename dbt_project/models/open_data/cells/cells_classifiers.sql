-- Dataset 1: the VIIS classifiers as sent for each school year (code lists, no persons).
with cells as (
    select
        {{ od_school_year('school_year') }} as macibu_gads,
        cast(classifier as varchar) as klasifikators,
        cast(code as varchar) as kods,
        cast(name_lv as varchar) as nosaukums,
        cast(name_en as varchar) as nosaukums_en
    from {{ ref('stg_viis__classifiers') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    qualify row_number() over (
        partition by school_year, classifier, code order by _source_file desc, _source_line desc) = 1
)
select *,
    {{ od_row_key(['macibu_gads', 'klasifikators', 'kods']) }} as _row_key
from cells
