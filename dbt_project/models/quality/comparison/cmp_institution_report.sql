{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Per institution x school year x grading period x kind (every kind listed, 0 when none): how many learners
-- the feed and the registry had and how many discrepancies the comparison found. Only institutions whose
-- grade batch of the period was received are compared (missing batches: quality.dq_submissions).
-- Absences add one row per institution x month ('YYYY-MM') whose absences were received (cmp_absence_batches),
-- kind not_enrolled only (the one kind compared for absences; its discrepancies: cmp_absence_months):
-- feed_learners = learners with absences there that month, registry_learners = learners with a registry spell
-- there overlapping the month.
with lp as (
    select * from {{ ref('cmp_learner_periods') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
ab as (
    select * from {{ ref('cmp_absence_batches') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
am as (
    select * from {{ ref('cmp_absence_months') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
compared as (
    select
        school_year, reg_nr, period, vendor, false as absences,
        count(*) filter (where in_feed) as feed_learners,
        count(*) filter (where on_roll) as registry_learners,
        count(*) filter (where in_feed and on_roll) as matched_learners
    from lp
    group by all
    union all
    select school_year, reg_nr, period, vendor, true as absences, feed_learners, registry_learners, matched_learners
    from ab
),
kinds (kind, absences) as (
    values ('not_enrolled', false), ('missing_from_feed', false), ('grade_mismatch', false), ('not_enrolled', true)
),
found as (
    select school_year, reg_nr, period, kind, count(*) as discrepancies
    from lp
    where kind is not null
    group by all
    union all
    select school_year, reg_nr, period, kind, count(*) as discrepancies
    from am
    group by all
)
select
    cast(c.reg_nr as varchar) as reg_nr,
    cast(i.municipality_code as varchar) as municipality_code,
    cast(c.school_year as integer) as school_year,
    cast(c.period as varchar) as period,
    cast(c.vendor as varchar) as vendor,
    cast(k.kind as varchar) as kind,
    cast(coalesce(f.discrepancies, 0) as bigint) as discrepancies,
    cast(c.feed_learners as bigint) as feed_learners,
    cast(c.registry_learners as bigint) as registry_learners,
    cast(c.matched_learners as bigint) as matched_learners,
    cast(coalesce(f.discrepancies, 0) / nullif(greatest(c.feed_learners, c.registry_learners), 0) as double)
        as discrepancy_share
from compared as c
inner join kinds as k on k.absences = c.absences
left join found as f using (school_year, reg_nr, period, kind)
left join {{ ref('dim_institutions') }} as i
    on i.school_year = c.school_year and i.institution_id = c.reg_nr
