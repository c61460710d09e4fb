select
    personas_kods as learner_id,
    -- VIIS codes sex V (vīrietis) / S (sieviete)
    case dzimums when 'V' then 'M' when 'S' then 'F' end as sex,
    dzimsanas_datums as birth_date,
    cast(year(dzimsanas_datums) as integer) as birth_year,
    deklaretas_adreses_kods as declared_address_code,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_learners') }}
