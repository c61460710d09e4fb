{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Year-over-year enrolment change of every institution and its modified z-score (Iglewicz & Hoaglin):
--   n_t   = learners enrolled on the reference date (distinct learner_id of fct_enrolments), all programmes
--   x     = ln(n_t / n_{t-1}) for institutions with learners in both years (a symmetric, scale-free change)
--   group = institutions of the same institution_kind (VIIS veids) in year t: a kindergarten is compared
--           with kindergartens, a school with schools
--   z     = 0.6745 (x - median(x)) / MAD, MAD = median |x - median(x)| over the group
-- z is null when the group has fewer than 5 institutions or MAD = 0; is_outlier = |z| > 3.5.
with n as (
    select school_year, institution_id, count(distinct learner_id) as learners
    from {{ ref('fct_enrolments') }} group by all
),
change as (
    select cur.school_year, cur.institution_id, d.institution_kind, prev.learners as learners_prev,
           cur.learners, ln(cur.learners::double / prev.learners) as x
    from n as cur
    join n as prev on prev.institution_id = cur.institution_id and prev.school_year = cur.school_year - 1
    left join {{ ref('dim_institutions') }} as d on d.institution_id = cur.institution_id and d.school_year = cur.school_year
    where 1 = 1 {{ school_year_filter('cur.school_year') }}
),
med as (
    select school_year, institution_kind, median(x) as med, count(*) as n_group from change group by all
),
mad as (
    select c.school_year, c.institution_kind, median(abs(c.x - m.med)) as mad
    from change as c join med as m using (school_year, institution_kind) group by all
)
select
    cast(c.school_year as integer) as school_year,
    cast(c.institution_id as varchar) as reg_nr,
    cast(c.institution_kind as varchar) as institution_kind,
    cast(c.learners_prev as bigint) as learners_prev,
    cast(c.learners as bigint) as learners,
    cast(c.x as double) as log_change,
    cast(m.med as double) as group_median,
    cast(d.mad as double) as group_mad,
    cast(m.n_group as bigint) as group_size,
    cast(case when m.n_group >= 5 and d.mad > 0 then 0.6745 * (c.x - m.med) / d.mad end as double) as z,
    cast(coalesce(m.n_group >= 5 and d.mad > 0 and abs(0.6745 * (c.x - m.med) / d.mad) > 3.5, false) as boolean) as is_outlier
from change as c
join med as m on m.school_year = c.school_year and m.institution_kind is not distinct from c.institution_kind
join mad as d on d.school_year = c.school_year and d.institution_kind is not distinct from c.institution_kind
