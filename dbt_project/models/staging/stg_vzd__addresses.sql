select
    kods as address_code,
    std as address,
    lpad(trim(atvk), 7, '0') as atvk_code,
    cast(koord_x as double) as lks92_x,
    cast(koord_y as double) as lks92_y,
    cast(dd_n as double) as lat,
    cast(dd_e as double) as lon,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'vzd_addresses') }}
