select
    iestades_reg_nr as institution_id,
    personas_kods as learner_id,
    cast(strptime(menesis || '-01', '%Y-%m-%d') as date) as month,
    cast(planotas_stundas as integer) as lessons_planned,
    ievadits as entered_at,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'vendor_a_planned_lessons') }}
