select
    personas_kods as staff_id,
    case dzimums when 'V' then 'M' when 'S' then 'F' end as sex,
    cast(dzimsanas_gads as integer) as birth_year,
    iestades_reg_nr as institution_id,
    amata_kods as post_code,
    prieksmets as subject_code,
    cast(likmes as double) as fte,
    kvalifikacija as qualification,
    izglitiba as education_code,
    sakuma_datums as start_date,
    beigu_datums as end_date,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_staff_posts') }}
