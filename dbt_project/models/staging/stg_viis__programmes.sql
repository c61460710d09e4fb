select
    iestades_reg_nr as institution_id,
    kods as programme_code,
    nosaukums as programme_name,
    programmas_veids as programme_kind,
    licences_nr as licence_number,
    licences_datums as licence_date,
    akreditets_lidz as accredited_until,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_programmes') }}
