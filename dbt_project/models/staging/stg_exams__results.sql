select
    personas_kods as learner_id,
    iestades_reg_nr as institution_id,
    eksamens as exam_code,
    limenis as exam_level,
    datums as exam_date,
    cast(rezultats_procenti as double) as score_pct,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'exams_results') }}
