select
    personas_kods as learner_id,
    iestades_reg_nr as institution_id,
    programmas_kods as programme_code,
    cast(klase as integer) as grade,
    cast(kurss as integer) as course,
    klases_id as class_id,
    sakuma_datums as start_date,
    beigu_datums as end_date,
    beigu_iemesls as end_reason,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_enrolments') }}
