-- VIIS confirmations: one row per institution, form (SKAITS_0109 learner count as of 1 September, VS-1, VSP-1)
-- and school year, with the time the institution confirmed it in the registry. Deadlines: seeds/data_calendar.csv.
select
    iestades_reg_nr as institution_id,
    veidlapa as form_code,
    macibu_gads as school_year_label,
    apstiprinats as confirmed_at,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'viis_confirmations') }}
