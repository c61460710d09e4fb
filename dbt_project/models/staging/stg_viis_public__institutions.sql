select
    registracijas_numurs as institution_id,
    nosaukums as institution_name,
    juridiskais_status as legal_status,
    cast(filialu_skaits as integer) as n_branches,
    cast(strukturvienibu_skaits as integer) as n_structural_units,
    veids as institution_kind,
    tips as institution_type,
    faktiskais_dibinatajs as actual_founder,
    deklaretais_dibinatajs as declared_founder,
    case likvideta when 'Jā' then true when 'Nē' then false end as is_closed,
    adrese as address,
    -- the ingest's harmonised current ATVK code of the address
    municipality_atvk as municipality_code,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_public_institutions') }}
