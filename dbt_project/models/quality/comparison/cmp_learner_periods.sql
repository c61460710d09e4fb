{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- The comparison's base: one row per school year x institution x grading period x learner, for every
-- institution whose grade batch of that period was received (it has rows in a school system's grade feed:
-- a missing batch is a submission problem for the data-quality marts, not a learner discrepancy), and every
-- learner who is in that batch or has a registry spell at the institution overlapping the period's window.
-- kind: 'not_enrolled' (in the feed, no registry spell there overlapping the window), 'missing_from_feed'
-- (on roll on the census date in grade 1-12, no marks in the batch), 'grade_mismatch' (enrolled, the feed
-- class's grade differs from the registry grade), null when feed and registry agree.
with periods as (
    select * from {{ ref('cmp_periods') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
feed as (
    select school_year, institution_id, learner_id, period, class_name, grade, _source_file, _source_line, 'A' as vendor
    from {{ ref('stg_vendor_a__grades') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
    union all
    select school_year, institution_id, learner_id, period, class_name, grade, _source_file, _source_line, 'B' as vendor
    from {{ ref('stg_vendor_b__grades') }}
    where 1 = 1 {{ school_year_filter('school_year') }}
),
-- one row per learner of a batch; the first feed row (by file, line) gives the class and the lineage
feed_learners as (
    select
        school_year, institution_id, period, learner_id,
        min(struct_pack(f := _source_file, l := _source_line, c := class_name, g := grade, v := vendor)) as first_row,
        count(*) as feed_rows
    from feed
    where learner_id is not null and institution_id is not null and period is not null
    group by all
),
batches as (
    select school_year, institution_id, period, min(first_row.v) as vendor
    from feed_learners
    group by all
),
-- registry spells of the compared institutions, per period whose window they overlap
spell_periods as (
    select
        s.school_year, s.institution_id, p.period, s.learner_id,
        bool_or(s.grade between 1 and 12 and s.start_date <= p.census_date
                and coalesce(s.end_date, p.census_date) >= p.census_date) as on_roll,
        -- the grade of the spell on roll on the census date, else of the latest spell overlapping the window
        arg_max(s.grade, struct_pack(
            c := s.start_date <= p.census_date and coalesce(s.end_date, p.census_date) >= p.census_date,
            d := s.start_date)) as registry_grade
    from {{ ref('fct_enrolment_spells') }} as s
    inner join periods as p
        on p.school_year = s.school_year
        and s.start_date <= p.window_end
        -- each bound references one side only, so DuckDB keeps a hash join (see cmp_absence_months)
        and coalesce(s.end_date, date '9999-12-31') >= p.window_start
    where s.institution_id in (select institution_id from batches)
        {{ school_year_filter('s.school_year') }}
    group by all
),
registry as (
    select sp.*
    from spell_periods as sp
    inner join batches as b using (school_year, institution_id, period)
),
joined as (
    select
        coalesce(f.school_year, r.school_year) as school_year,
        coalesce(f.institution_id, r.institution_id) as reg_nr,
        coalesce(f.period, r.period) as period,
        coalesce(f.learner_id, r.learner_id) as learner_id,
        f.learner_id is not null as in_feed,
        r.learner_id is not null as enrolled,
        coalesce(r.on_roll, false) as on_roll,
        r.registry_grade,
        f.first_row.c as feed_class,
        f.first_row.g as feed_grade,
        f.first_row.f as source_file,
        f.first_row.l as source_line,
        coalesce(f.feed_rows, 0) as feed_rows
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
    cast(j.on_roll as boolean) as on_roll,
    cast(j.registry_grade as integer) as registry_grade,
    cast(j.feed_class as varchar) as feed_class,
    cast(j.feed_grade as integer) as feed_grade,
    cast(j.source_file as varchar) as source_file,
    cast(j.source_line as integer) as source_line,
    cast(j.feed_rows as bigint) as feed_rows,
    cast(case
        when j.in_feed and not j.enrolled then 'not_enrolled'
        when not j.in_feed and j.on_roll then 'missing_from_feed'
        when j.in_feed and j.feed_grade is distinct from j.registry_grade then 'grade_mismatch'
    end as varchar) as kind
from joined as j
inner join batches as b
    on b.school_year = j.school_year and b.institution_id = j.reg_nr and b.period = j.period
