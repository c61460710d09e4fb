{{ config(materialized='view') }}
-- The grading periods the import-vs-registry comparison uses, per school year t (one row per t x period).
-- window: a learner counts as enrolled at an institution in the period when a registry spell there overlaps it.
--   S1   (vendor A 1_SEM, vendor B T1):    1 Sep t - 31 Dec t
--   S2   (2_SEM, T2):                      1 Jan t+1 - 31 Aug t+1
--   YEAR (GADA, FINAL): year-end marks are set at the end of the second semester, so the same window as S2
-- census_date: marks are due for every pupil (grade 1-12 spell) on roll at the institution on this day:
--   S1 20 Dec t (the semester's last week), S2 and YEAR 25 May t+1 (the last week of lessons).
-- The generator plants its discrepancies against the same windows (pipelines/generator/discrepancies.py).
with years as (
    select distinct school_year from {{ ref('dim_institutions') }}
),
periods (period, vendor_a_period, vendor_b_term, start_offset, start_md, end_md, census_offset, census_md) as (
    values
        ('S1', '1_SEM', 'T1', 0, '09-01', '12-31', 0, '12-20'),
        ('S2', '2_SEM', 'T2', 1, '01-01', '08-31', 1, '05-25'),
        ('YEAR', 'GADA', 'FINAL', 1, '01-01', '08-31', 1, '05-25')
)
select
    cast(y.school_year as integer) as school_year,
    cast(p.period as varchar) as period,
    cast(p.vendor_a_period as varchar) as vendor_a_period,
    cast(p.vendor_b_term as varchar) as vendor_b_term,
    cast(cast(y.school_year + p.start_offset as varchar) || '-' || p.start_md as date) as window_start,
    cast(cast(y.school_year + p.start_offset as varchar) || '-' || p.end_md as date) as window_end,
    cast(cast(y.school_year + p.census_offset as varchar) || '-' || p.census_md as date) as census_date
from years as y
cross join periods as p
