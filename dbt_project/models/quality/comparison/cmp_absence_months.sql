{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- The absence side of the comparison (not_enrolled only): one row per school year x institution x calendar
-- month ('YYYY-MM') x learner, for every institution whose absences of that month were received (it has rows
-- in a school system's absence feed), and every learner who has absence rows there that month or a registry
-- spell there overlapping the month. A learner's absence day is covered when a registry spell of the learner
-- at that institution covers the date (start and end inclusive, open end = still enrolled).
-- kind: 'not_enrolled' when the learner has absences there on at least one uncovered day, else null.
-- source_file/source_line: the first absence row (by file, line) of the uncovered days (of all days when none).
with absences as (
    select school_year, institution_id, learner_id, absence_date, _source_file, _source_line, 'A' as vendor
    from {{ ref('stg_vendor_a__absences') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    union all
    select school_year, institution_id, learner_id, absence_date, _source_file, _source_line, 'B' as vendor
    from {{ ref('stg_vendor_b__attendance') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
-- one row per learner, institution and absence day; the first feed row of the day gives the lineage
days as (
    select
        school_year, institution_id, learner_id, cast(absence_date as date) as absence_date,
        min(struct_pack(f := _source_file, l := _source_line, v := vendor)) as first_row
    from absences
    where learner_id is not null and institution_id is not null and absence_date is not null
    group by all
),
spells as (
    select school_year, institution_id, learner_id, start_date, end_date
    from {{ ref('fct_enrolment_spells') }}
    where institution_id in (select institution_id from days) {{ school_year_filter('school_year') }}
),
covered_days as (
    select
        d.school_year, d.institution_id, d.learner_id, d.absence_date, d.first_row,
        bool_or(s.learner_id is not null) as covered
    from days as d
    left join spells as s
        on s.school_year = d.school_year and s.institution_id = d.institution_id and s.learner_id = d.learner_id
        and s.start_date <= d.absence_date and coalesce(s.end_date, d.absence_date) >= d.absence_date
    group by all
),
feed_learners as (
    select
        school_year, institution_id, strftime(absence_date, '%Y-%m') as period, learner_id,
        count(*) as absence_days,
        count(*) filter (where not covered) as uncovered_days,
        min(absence_date) filter (where not covered) as first_uncovered_date,
        coalesce(min(first_row) filter (where not covered), min(first_row)) as first_row
    from covered_days
    group by all
),
batches as (
    select
        school_year, institution_id, period, min(first_row.v) as vendor,
        cast(period || '-01' as date) as month_start,
        cast(last_day(cast(period || '-01' as date)) as date) as month_end
    from feed_learners
    group by all
),
registry as (
    select distinct b.school_year, b.institution_id, b.period, s.learner_id
    from spells as s
    inner join batches as b
        on b.school_year = s.school_year and b.institution_id = s.institution_id
        and s.start_date <= b.month_end and coalesce(s.end_date, b.month_end) >= b.month_start
),
joined as (
    select
        coalesce(f.school_year, r.school_year) as school_year,
        coalesce(f.institution_id, r.institution_id) as reg_nr,
        coalesce(f.period, r.period) as period,
        coalesce(f.learner_id, r.learner_id) as learner_id,
        f.learner_id is not null as in_feed,
        r.learner_id is not null as enrolled,
        coalesce(f.absence_days, 0) as absence_days,
        coalesce(f.uncovered_days, 0) as uncovered_days,
        f.first_uncovered_date,
        f.first_row.f as source_file,
        f.first_row.l as source_line
    from feed_learners as f
    full outer join registry as r
        on r.school_year = f.school_year and r.institution_id = f.institution_id
        and r.period = f.period and r.learner_id = f.learner_id
)
select
    cast(j.school_year as integer) as school_year,
    cast(j.reg_nr as varchar) as reg_nr,
    cast(j.period as varchar) as period,
    cast(b.vendor as varchar) as vendor,
    cast(j.learner_id as varchar) as learner_id,
    cast(j.in_feed as boolean) as in_feed,
    cast(j.enrolled as boolean) as enrolled,
    cast(j.absence_days as bigint) as absence_days,
    cast(j.uncovered_days as bigint) as uncovered_days,
    cast(j.first_uncovered_date as date) as first_uncovered_date,
    cast(j.source_file as varchar) as source_file,
    cast(j.source_line as integer) as source_line,
    cast(case when j.uncovered_days > 0 then 'not_enrolled' end as varchar) as kind
from joined as j
inner join batches as b
    on b.school_year = j.school_year and b.institution_id = j.reg_nr and b.period = j.period
