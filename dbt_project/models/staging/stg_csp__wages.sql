-- teritorija = 'LV<ATVK> <name>' ('LV0000000 Latvija' = the whole country).
select
    teritorija as territory,
    substr(teritorija, 1, 9) as area_code,
    substr(teritorija, 3, 7) as atvk_code,
    trim(substr(teritorija, 11)) as territory_name,
    cast(gads as integer) as year,
    cast(bruto_alga as double) as gross_monthly_wage,
    cast(nodarbinatibas_limenis as double) as employment_rate_pct,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'csp_wages') }}
