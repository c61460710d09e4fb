{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- What the registry says each institution must submit (data calendar column required_of):
--   learners_on_reference_date   institutions with any learner on 1 September (fct_enrolments)
--   pupils_on_reference_date     ... with a pupil in grades 1-12 on 1 September
--   preschool_on_reference_date  ... with a learner in a PIRMSSKOLA programme on 1 September
--   vendor_pupils_on_assessment_day  schools whose registry `sistema` is A/B (-> feed vendor_a/vendor_b) with a
--                                pupil (grade 1-12 spell) on the day marks are fixed (assessed_on: 20 Dec / 25 May)
--   vendor_pupils_in_month       such schools with a pupil spell overlapping the month's weekdays from
--                                1 September to 31 May (grades 9 and 12: to 15 June, the exams)
with cal as (
    select * from {{ ref('dq_calendar') }}
),
inst as (
    select school_year, institution_id as reg_nr, 'vendor_' || lower(school_system) as feed
    from {{ ref('stg_viis__institutions') }}
    where school_system in ('A', 'B') {{ school_year_filter('school_year') }}
),
spells as (
    select distinct s.school_year, i.reg_nr, i.feed, s.start_date,
        coalesce(s.end_date, make_date(s.school_year + 1, 8, 31)) as end_date,
        s.grade in (9, 12) as extended
    from {{ ref('fct_enrolment_spells') }} as s
    join inst as i on i.school_year = s.school_year and i.reg_nr = s.institution_id
    where s.grade between 1 and 12 {{ school_year_filter('s.school_year') }}
),
days as (
    select school_year, cast(d as date) as day
    from (select school_year, unnest(generate_series(make_date(school_year, 9, 1)::timestamp,
                                                     make_date(school_year + 1, 6, 15)::timestamp,
                                                     interval 1 day)) as d
          from (select distinct school_year from inst))
    where isodow(d) <= 5
),
months as (
    select school_year, strftime(day, '%Y-%m') as period, min(day) as first_day,
        max(day) filter (where day <= make_date(school_year + 1, 5, 31)) as last_day_normal,
        max(day) as last_day_extended
    from days group by all
),
vendor_monthly as (
    select distinct s.school_year, s.reg_nr, s.feed, m.period
    from spells as s
    join months as m on m.school_year = s.school_year
        and s.end_date >= m.first_day
        and s.start_date <= case when s.extended then m.last_day_extended else m.last_day_normal end
),
vendor_expected as (
    select v.school_year, v.reg_nr, v.feed, c.entity, v.period
    from vendor_monthly as v
    join cal as c on c.feed = v.feed and c.required_of = 'vendor_pupils_in_month'
    union
    select s.school_year, s.reg_nr, s.feed, c.entity, c.period
    from spells as s
    join cal as c on c.feed = s.feed and c.required_of = 'vendor_pupils_on_assessment_day'
    where make_date(s.school_year + case when cast(left(c.assessed_on, 2) as integer) >= 9 then 0 else 1 end,
                    cast(left(c.assessed_on, 2) as integer), cast(right(c.assessed_on, 2) as integer))
          between s.start_date and s.end_date
),
registry_expected as (
    select distinct e.school_year, e.institution_id as reg_nr, c.feed, c.entity, c.period
    from {{ ref('fct_enrolments') }} as e
    join cal as c on c.required_of = 'learners_on_reference_date'
        or (c.required_of = 'pupils_on_reference_date' and e.grade between 1 and 12)
        or (c.required_of = 'preschool_on_reference_date' and e.programme_kind = 'PIRMSSKOLA')
    where 1 = 1 {{ school_year_filter('e.school_year') }}
)
select cast(school_year as integer) as school_year, cast(reg_nr as varchar) as reg_nr, cast(feed as varchar) as feed,
       cast(entity as varchar) as entity, cast(period as varchar) as period
from (select * from vendor_expected union all select * from registry_expected)
