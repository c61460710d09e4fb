{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- One row per institution x feed x entity x school year x period that was expected (dq_expected) or received
-- (dq_received), with the deadline of the data calendar and the status:
--   on_time     expected, received, submitted_at <= deadline          days_late 0
--   late        expected, received after the deadline               days_late = calendar days from the
--                                                                   deadline's date to the submission's date
--   missing     expected, nothing received (as of this build: a deadline still ahead means not yet due)
--   unexpected  received, not expected (e.g. a school system's rows for a school without pupils then)
-- An entity the calendar marks empty_allowed (absences: a month without absences has nothing to send) is not
-- expected on its own when the rest of its monthly batch (the planned lessons) arrived without it.
with expected as (
    select * from {{ ref('dq_expected') }} where 1 = 1 {{ school_year_filter('school_year') }}
),
received as (
    select * from {{ ref('dq_received') }} where 1 = 1 {{ school_year_filter('school_year') }}
),
cal as (
    select * from {{ ref('dq_calendar') }}
),
batches as (  -- a school system's monthly batch: any entity of that institution, feed and month arrived
    select school_year, reg_nr, feed, period, min(submitted_at) as batch_at
    from received where regexp_full_match(period, '[0-9]{4}-[0-9]{2}')
    group by all
),
joined as (
    select
        coalesce(e.school_year, r.school_year) as school_year,
        coalesce(e.reg_nr, r.reg_nr) as reg_nr,
        coalesce(e.feed, r.feed) as feed,
        coalesce(e.entity, r.entity) as entity,
        coalesce(e.period, r.period) as period,
        e.reg_nr is not null as expected,
        r.reg_nr is not null as received,
        r.submitted_at
    from expected as e
    full outer join received as r
        on r.school_year = e.school_year and r.reg_nr = e.reg_nr and r.feed = e.feed
        and r.entity = e.entity and r.period = e.period
),
dated as (
    select j.*, c.empty_allowed, b.batch_at,
        case
            when c.period_kind = 'month' then
                cast(cast(make_date(cast(left(j.period, 4) as integer), cast(right(j.period, 2) as integer), 1)
                          + to_months(c.deadline_months_after) + to_days(c.deadline_day - 1) as date)
                     + c.deadline_time as timestamp)
            when c.submission_id is not null then
                cast(make_date(j.school_year + c.deadline_year_offset, c.deadline_month, c.deadline_day)
                     + c.deadline_time as timestamp)
        end as deadline
    from joined as j
    left join cal as c on c.feed = j.feed and c.entity = j.entity
        and (c.period = j.period or (c.period_kind = 'month' and regexp_full_match(j.period, '[0-9]{4}-[0-9]{2}')))
    left join batches as b on b.school_year = j.school_year and b.reg_nr = j.reg_nr and b.feed = j.feed
        and b.period = j.period
)
select
    cast(d.reg_nr as varchar) as reg_nr,
    cast(i.municipality_code as varchar) as municipality_code,
    cast(d.school_year as integer) as school_year,
    cast(d.feed as varchar) as feed,
    cast(d.entity as varchar) as entity,
    cast(d.period as varchar) as period,
    cast(d.deadline as timestamp) as deadline,
    cast(d.expected as boolean) as expected,
    cast(d.received as boolean) as received,
    cast(d.submitted_at as timestamp) as submitted_at,
    cast(case
        when not d.received then null
        when d.deadline is null or d.submitted_at <= d.deadline then 0
        else date_diff('day', cast(d.deadline as date), cast(d.submitted_at as date))
    end as integer) as days_late,
    cast(case
        when d.expected and d.received and (d.deadline is null or d.submitted_at <= d.deadline) then 'on_time'
        when d.expected and d.received then 'late'
        when d.expected then 'missing'
        else 'unexpected'
    end as varchar) as status
from dated as d
left join {{ ref('dim_institutions') }} as i on i.institution_id = d.reg_nr and i.school_year = d.school_year
where not (coalesce(d.empty_allowed, false) and d.expected and not d.received and d.batch_at is not null)
