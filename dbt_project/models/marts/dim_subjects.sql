select
    cast(code as varchar) as subject_code,
    cast(name_lv as varchar) as subject_name_lv,
    cast(name_en as varchar) as subject_name_en
from {{ ref('viis_classifiers') }}
where classifier = 'PRIEKSMETS'
