-- Partition t holds the population on 1 January t+1 (reference_year); 'Y_GE100' = aged 100 or more (age 100).
select
    area as area_code,
    substr(area, 3) as municipality_code,
    sex,
    age as age_code,
    cast(case when age = 'Y_GE100' then 100 else cast(substr(age, 2) as integer) end as integer) as age,
    cast(time as integer) as reference_year,
    cast(value as bigint) as population,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'csp_population') }}
