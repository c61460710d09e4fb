select
    klasifikators as classifier,
    kods as code,
    nosaukums as name_lv,
    nosaukums_en as name_en,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_classifiers') }}
