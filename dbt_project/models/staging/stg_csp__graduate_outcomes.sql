select
    personas_kods as learner_id,
    cast(absolvesanas_gads as integer) as graduation_year,
    nodarbinats as employed,
    cast(ienakumi_gada as double) as annual_income,
    turpina_macities as continuing_study,
    emigrejis as emigrated,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'csp_graduate_outcomes') }}
