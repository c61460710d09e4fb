{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- The absence discrepancies (kind not_enrolled): one row per school year x institution x calendar month
-- ('YYYY-MM') x learner with absences there on at least one day that no registry spell of the learner at that
-- institution covers (start and end inclusive, open end = still enrolled). Per-month counts of the compared
-- learners (feed, registry, both): cmp_absence_batches. Only the discrepancies are stored: the compared
-- learner-months are ~2 M a year at national scale and nothing reads them one by one (writing them was most of
-- this model's cost).
-- source_file/source_line: the first absence row (by file, line) of the uncovered days.
-- Reads fct_absences (one row per learner x institution x day x reason, carrying its first feed row), not the
-- staging views: at national scale vendor A sends ~6 M lesson rows a year and fct_absences is the one scan of them.
with absences as (
    select school_year, institution_id, learner_id, absence_date, source_file, source_line
    from {{ ref('fct_absences') }}
    where learner_id is not null and institution_id is not null and absence_date is not null
        {{ school_year_filter('school_year') }}
),
spells as (
    select school_year, institution_id, learner_id, start_date, end_date
    from {{ ref('fct_enrolment_spells') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
-- per learner, institution and year: the number of spells and their outer bounds. Nearly every learner has one
-- spell at an institution in a year, and a day inside a lone spell is covered: an equality join settles those
-- rows, and only the rest meet the range condition below (with a range condition on every row, 3x slower).
spell_keys as (
    select
        school_year, institution_id, learner_id, count(*) as spells, min(start_date) as first_start,
        max(coalesce(end_date, date '9999-12-31')) as last_end
    from spells
    group by all
),
maybe_uncovered as (
    select a.*
    from absences as a
    left join spell_keys as k using (school_year, institution_id, learner_id)
    where k.spells is null or k.spells > 1 or a.absence_date not between k.first_start and k.last_end
),
-- The absence rows on a day no spell of the learner there covers. The join keys are equalities on (year,
-- institution, learner) and each range bound references one side only: a bound such as
-- coalesce(s.end_date, a.absence_date) mixes both sides, and DuckDB then plans a blockwise nested loop
-- (> 40 min a year at national scale instead of seconds).
uncovered_rows as (
    select m.*, strftime(m.absence_date, '%Y-%m') as period
    from maybe_uncovered as m
    where not exists (
        select 1 from spells as s
        where s.school_year = m.school_year and s.institution_id = m.institution_id and s.learner_id = m.learner_id
            and s.start_date <= m.absence_date and coalesce(s.end_date, date '9999-12-31') >= m.absence_date
    )
),
uncovered as (
    select
        school_year, institution_id, period, learner_id,
        count(distinct absence_date) as uncovered_days,
        min(absence_date) as first_uncovered_date,
        -- the first feed row (by file, line) of the uncovered days
        min(struct_pack(f := source_file, l := source_line)) as first_row,
        cast(period || '-01' as date) as month_start,
        cast(last_day(cast(period || '-01' as date)) as date) as month_end
    from uncovered_rows
    group by all
),
-- every absence day of those learner-months (covered or not)
month_days as (
    select u.school_year, u.institution_id, u.period, u.learner_id, count(distinct a.absence_date) as absence_days
    from uncovered as u
    inner join absences as a
        on a.school_year = u.school_year and a.institution_id = u.institution_id and a.learner_id = u.learner_id
        and a.absence_date between u.month_start and u.month_end
    group by all
)
select
    cast(u.school_year as integer) as school_year,
    cast(u.institution_id as varchar) as reg_nr,
    cast(u.period as varchar) as period,
    cast(b.vendor as varchar) as vendor,
    cast(u.learner_id as varchar) as learner_id,
    -- a registry spell of the learner there overlaps the month (the absences fall outside it)
    cast(exists (
        select 1 from spells as s
        where s.school_year = u.school_year and s.institution_id = u.institution_id and s.learner_id = u.learner_id
            and s.start_date <= u.month_end and coalesce(s.end_date, date '9999-12-31') >= u.month_start
    ) as boolean) as enrolled,
    cast(d.absence_days as bigint) as absence_days,
    cast(u.uncovered_days as bigint) as uncovered_days,
    cast(u.first_uncovered_date as date) as first_uncovered_date,
    cast(u.first_row.f as varchar) as source_file,
    cast(u.first_row.l as integer) as source_line,
    cast('not_enrolled' as varchar) as kind
from uncovered as u
inner join month_days as d using (school_year, institution_id, period, learner_id)
-- the month's batch: its vendor
inner join {{ ref('cmp_absence_batches') }} as b
    on b.school_year = u.school_year and b.reg_nr = u.institution_id and b.period = u.period
