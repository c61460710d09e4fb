{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- The absence side of the comparison (not_enrolled only): one row per school year x institution x calendar
-- month ('YYYY-MM') x learner, for every institution whose absences of that month were received (it has rows
-- in a school system's absence feed), and every learner who has absence rows there that month or a registry
-- spell there overlapping the month. A learner's absence day is covered when a registry spell of the learner
-- at that institution covers the date (start and end inclusive, open end = still enrolled).
-- kind: 'not_enrolled' when the learner has absences there on at least one uncovered day, else null.
-- source_file/source_line: the first absence row (by file, line) of the uncovered days (of all days when none).
-- Reads fct_absences (one row per learner x institution x day x reason, carrying its first feed row), not the
-- staging views: at national scale vendor A sends ~6 M lesson rows a year and fct_absences is the one scan of them.
with files as (
    -- the absence feed files, ranked by name: (rank, line) packed into one BIGINT orders the feed rows by (file,
    -- line), and its min is a group's first feed row (a struct min over millions of rows was the costliest step)
    select
        source_file, row_number() over (order by source_file) as file_rank,
        case min(source) when 'vendor_a' then 'A' when 'vendor_b' then 'B' end as vendor
    from {{ ref('fct_absences') }}
    where learner_id is not null and institution_id is not null and absence_date is not null
        {{ school_year_filter('school_year') }}
    group by source_file
),
days as (
    -- one row per learner, institution and absence day; first_row: the day's first feed row, packed
    select
        a.school_year, a.institution_id, a.learner_id, a.absence_date,
        min((f.file_rank << 32) + a.source_line) as first_row
    from {{ ref('fct_absences') }} as a
    inner join files as f on f.source_file = a.source_file
    where a.learner_id is not null and a.institution_id is not null and a.absence_date is not null
        {{ school_year_filter('a.school_year') }}
    group by all
),
spells as (
    select school_year, institution_id, learner_id, start_date, end_date
    from {{ ref('fct_enrolment_spells') }}
    where institution_id in (select institution_id from days) {{ school_year_filter('school_year') }}
),
-- A day is covered when a spell of the learner there covers it: a semi-join marking each day, no regrouping.
-- The join keys are equalities on (year, institution, learner) and each range bound references one side only:
-- a bound such as coalesce(s.end_date, d.absence_date) mixes both sides, and DuckDB then plans a blockwise
-- nested loop over days x spells (> 40 min a year at national scale instead of seconds).
covered_days as (
    select d.*, exists (
        select 1 from spells as s
        where s.school_year = d.school_year and s.institution_id = d.institution_id and s.learner_id = d.learner_id
            and s.start_date <= d.absence_date and coalesce(s.end_date, date '9999-12-31') >= d.absence_date
    ) as covered
    from days as d
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
feed_rows as (
    -- the packed first row back to its file, line and vendor
    select fl.* exclude (first_row), f.source_file, cast(fl.first_row & 4294967295 as integer) as source_line,
        f.vendor
    from feed_learners as fl
    inner join files as f on f.file_rank = fl.first_row >> 32
),
batches as (
    select
        school_year, institution_id, period, min(vendor) as vendor,
        cast(period || '-01' as date) as month_start,
        cast(last_day(cast(period || '-01' as date)) as date) as month_end
    from feed_rows
    group by all
),
registry as (
    select distinct b.school_year, b.institution_id, b.period, s.learner_id
    from spells as s
    inner join batches as b
        on b.school_year = s.school_year and b.institution_id = s.institution_id
        and s.start_date <= b.month_end and coalesce(s.end_date, date '9999-12-31') >= b.month_start
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
        f.source_file,
        f.source_line
    from feed_rows as f
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
