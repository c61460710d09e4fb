select
    cast(nr as integer) as list_number,
    novads as municipality_name,
    registracijas_nr as institution_id,
    nosaukums as institution_name,
    pakljautiba as subordination,
    veids as institution_kind,
    tips as institution_type,
    adrese as address,
    cast(pirmsskolas_berni as integer) as preschool_children,
    cast(skolenu_skaits_1_12 as integer) as pupils_grades_1_12,
    -- the ingest's harmonised current ATVK code of novads
    municipality_atvk as municipality_code,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'izm_general_schools') }}
