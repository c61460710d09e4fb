{#- the official e-mail (iestades_epasts) was added to the contract later: a raw table ingested before it has no
    such column until re-ingested, so it is read only when present -#}
{%- set raw_cols = adapter.get_columns_in_relation(source('raw', 'viis_institutions')) | map(attribute='name') | map('lower') | list if execute else [] -%}
select
    reg_nr as institution_id,
    nosaukums as institution_name,
    veids as institution_kind,
    tips as institution_type,
    dibinataja_tips as founder_type,
    dibinatajs as founder,
    -- pre-2021 code before school year 2021, current code from 2021 (harmonised in dim_institutions)
    lpad(trim(atvk), 7, '0') as atvk_code,
    adreses_kods as address_code,
    adrese as address,
    darbibas_sakums as operating_since,
    likvidets as closed_date,
    sistema as school_system,
    {% if 'iestades_epasts' in raw_cols %}nullif(trim(iestades_epasts), ''){% else %}cast(null as varchar){% endif %} as email,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_institutions') }}
