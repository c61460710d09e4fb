{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- One row per learner whose school-system grade feed and the VIIS registry disagree at an institution in a
-- grading period (kinds and windows: cmp_learner_periods, cmp_periods), plus the learners with absences at an
-- institution on days the registry has no spell of theirs there (kind not_enrolled, period = the month
-- 'YYYY-MM': cmp_absence_months). learner_id is internal; detail names only institutions, classes, grades and
-- dates (safe to show the institution; an absence row's detail names no other institution).
with lp as (
    select * from {{ ref('cmp_learner_periods') }}
    where kind is not null {{ school_year_filter('school_year') }}
),
periods as (
    select * from {{ ref('cmp_periods') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
-- for a learner reported where the registry has no spell: where the registry has them in that window
elsewhere as (
    select
        lp.school_year, lp.reg_nr, lp.period, lp.learner_id,
        string_agg(distinct s.institution_id || coalesce(' grade ' || s.grade, ''), ', '
                   order by s.institution_id || coalesce(' grade ' || s.grade, '')) as registry_at
    from lp
    inner join periods as p using (school_year, period)
    inner join {{ ref('fct_enrolment_spells') }} as s
        on s.school_year = lp.school_year and s.learner_id = lp.learner_id
        and s.start_date <= p.window_end and coalesce(s.end_date, date '9999-12-31') >= p.window_start
    where lp.kind = 'not_enrolled' {{ school_year_filter('s.school_year') }}
    group by all
),
absence_months as (
    select * from {{ ref('cmp_absence_months') }}
    where kind is not null {{ school_year_filter('school_year') }}
)
select
    cast(lp.reg_nr as varchar) as reg_nr,
    cast(lp.school_year as integer) as school_year,
    cast(lp.period as varchar) as period,
    cast(lp.vendor as varchar) as vendor,
    cast(lp.kind as varchar) as kind,
    cast(lp.learner_id as varchar) as learner_id,
    cast(lp.registry_grade as integer) as registry_grade,
    cast(lp.feed_class as varchar) as feed_class,
    cast(lp.feed_grade as integer) as feed_grade,
    cast(lp.source_file as varchar) as source_file,
    cast(lp.source_line as integer) as source_line,
    cast(case lp.kind
        when 'not_enrolled' then
            'class ' || coalesce(lp.feed_class, '?') || ' in the feed (' || lp.feed_rows || ' marks from line '
            || lp.source_line || '); no registry spell here between ' || strftime(p.window_start, '%Y-%m-%d')
            || ' and ' || strftime(p.window_end, '%Y-%m-%d')
            || coalesce('; registry: ' || e.registry_at, '; registry: not enrolled anywhere')
        when 'missing_from_feed' then
            'on roll on ' || strftime(p.census_date, '%Y-%m-%d') || ' in grade ' || coalesce(cast(lp.registry_grade as varchar), '?')
            || '; no marks in the received batch'
        else
            'class ' || coalesce(lp.feed_class, '?') || ' gives grade ' || coalesce(cast(lp.feed_grade as varchar), '?')
            || '; registry grade ' || coalesce(cast(lp.registry_grade as varchar), 'none')
    end as varchar) as detail
from lp
inner join periods as p using (school_year, period)
left join elsewhere as e using (school_year, reg_nr, period, learner_id)
union all
select
    cast(am.reg_nr as varchar) as reg_nr,
    cast(am.school_year as integer) as school_year,
    cast(am.period as varchar) as period,
    cast(am.vendor as varchar) as vendor,
    cast(am.kind as varchar) as kind,
    cast(am.learner_id as varchar) as learner_id,
    cast(null as integer) as registry_grade,
    cast(null as varchar) as feed_class,
    cast(null as integer) as feed_grade,
    cast(am.source_file as varchar) as source_file,
    cast(am.source_line as integer) as source_line,
    cast('absences on ' || am.uncovered_days || ' day' || case when am.uncovered_days = 1 then '' else 's' end
         || ' from ' || strftime(am.first_uncovered_date, '%Y-%m-%d')
         || ' in the feed; no registry spell here on those days' as varchar) as detail
from absence_months as am
