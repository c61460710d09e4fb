select
    klases_id as class_id,
    iestades_reg_nr as institution_id,
    cast(klase as integer) as grade,
    burts as class_letter,
    programmas_kods as programme_code,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_classes') }}
