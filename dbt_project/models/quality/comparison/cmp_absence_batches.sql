{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- The absence side of the comparison, counted: one row per school year x institution x calendar month
-- ('YYYY-MM') whose absences were received (the institution has rows in a school system's absence feed that
-- month): the learners with absence rows there (feed_learners), the learners with a registry spell there
-- overlapping the month (registry_learners) and both (matched_learners). The learners themselves are not
-- stored (~2 M learner-months a year at national scale); the discrepancies are in cmp_absence_months.
with feed as (
    -- the learner-months with absence rows (~0.8 M a year at national scale)
    select school_year, institution_id, date_trunc('month', absence_date) as month_start, learner_id, min(source) as source
    from {{ ref('fct_absences') }}
    where learner_id is not null and institution_id is not null and absence_date is not null
        {{ school_year_filter('school_year') }}
    group by all
),
batches as (
    select school_year, institution_id, month_start, last_day(month_start) as month_end,
        case min(source) when 'vendor_a' then 'A' when 'vendor_b' then 'B' end as vendor,
        count(*) as feed_learners
    from feed group by all
),
spells as (
    select school_year, institution_id, learner_id, start_date, coalesce(end_date, date '9999-12-31') as end_date
    from {{ ref('fct_enrolment_spells') }}
    where institution_id in (select institution_id from batches) {{ school_year_filter('school_year') }}
),
-- per learner, institution and year: the number of spells and their outer bounds (nearly always one spell:
-- whether it overlaps a month is then a comparison, and only the rest meet the range join)
spell_keys as (
    select school_year, institution_id, learner_id, count(*) as spells, min(start_date) as first_start, max(end_date) as last_end
    from spells group by all
),
-- the learners with a spell overlapping the month; each range bound references one side only, so DuckDB keeps
-- a hash join (see cmp_absence_months)
registry as (
    select b.school_year, b.institution_id, b.month_start, count(distinct s.learner_id) as registry_learners
    from spells as s
    inner join batches as b
        on b.school_year = s.school_year and b.institution_id = s.institution_id
        and s.start_date <= b.month_end and s.end_date >= b.month_start
    group by all
),
feed_spells as (
    select f.school_year, f.institution_id, f.month_start, f.learner_id, k.spells,
        k.spells = 1 and k.first_start <= last_day(f.month_start) and k.last_end >= f.month_start as lone_overlaps
    from feed as f
    inner join spell_keys as k using (school_year, institution_id, learner_id)
),
-- the feed's learners with a spell there overlapping the month
matched as (
    select school_year, institution_id, month_start, count(*) as matched_learners
    from (
        select school_year, institution_id, month_start from feed_spells where lone_overlaps
        union all
        select f.school_year, f.institution_id, f.month_start
        from (select * from feed_spells where spells > 1) as f
        where exists (
            select 1 from spells as s
            where s.school_year = f.school_year and s.institution_id = f.institution_id and s.learner_id = f.learner_id
                and s.start_date <= last_day(f.month_start) and s.end_date >= f.month_start)
    )
    group by all
)
select
    cast(b.school_year as integer) as school_year,
    cast(b.institution_id as varchar) as reg_nr,
    cast(strftime(b.month_start, '%Y-%m') as varchar) as period,
    cast(b.vendor as varchar) as vendor,
    cast(b.feed_learners as bigint) as feed_learners,
    cast(coalesce(r.registry_learners, 0) as bigint) as registry_learners,
    cast(coalesce(m.matched_learners, 0) as bigint) as matched_learners
from batches as b
left join registry as r using (school_year, institution_id, month_start)
left join matched as m using (school_year, institution_id, month_start)
