{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Missed lessons per pupil, institution, day and reason. Vendor A sends one row per lesson (counted here);
-- vendor B one row per day and reason with the count.
-- source / source_file / source_line: the vendor and the group's first feed row (by file, line). They let the
-- import-vs-registry comparison (cmp_absence_months) point at a feed row without re-reading the staging views
-- (vendor A is ~6 M rows a year at national scale: this model is the one place that scans them).
with a as (
    select
        school_year, institution_id, learner_id, absence_date, reason, count(*) as lessons_missed,
        'vendor_a' as source, min(struct_pack(f := _source_file, l := _source_line)) as first_row
    from {{ ref('stg_vendor_a__absences') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
),
b as (
    select
        school_year, institution_id, learner_id, absence_date, reason, sum(lessons_missed) as lessons_missed,
        'vendor_b' as source, min(struct_pack(f := _source_file, l := _source_line)) as first_row
    from {{ ref('stg_vendor_b__attendance') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    group by all
),
u as (
    select * from a
    union all
    select * from b
)
select
    cast(school_year as integer) as school_year,
    cast(institution_id as varchar) as institution_id,
    cast(learner_id as varchar) as learner_id,
    cast(absence_date as date) as absence_date,
    cast(reason as varchar) as reason,
    cast(lessons_missed as integer) as lessons_missed,
    cast(source as varchar) as source,
    cast(first_row.f as varchar) as source_file,
    cast(first_row.l as integer) as source_line
from u
