select
    personas_kods as person_id,
    registracijas_datums as registration_date,
    izslegsanas_datums as deregistration_date,
    filiale as branch,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'nva_unemployed') }}
