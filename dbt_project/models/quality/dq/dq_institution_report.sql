{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- One row per institution x school year (every institution of dim_institutions): submissions (completeness,
-- timeliness), validity (rows read / quarantined), consistency and outliers, with the municipality.
with sub as (
    select reg_nr, school_year,
        count(*) filter (where expected) as n_expected,
        count(*) filter (where expected and received) as n_received_expected,
        count(*) filter (where status = 'on_time') as n_on_time,
        count(*) filter (where status = 'late') as n_late,
        count(*) filter (where status = 'missing') as n_missing,
        count(*) filter (where status = 'unexpected') as n_unexpected,
        max(days_late) as max_days_late
    from {{ ref('dq_submissions') }} group by all
),
val as (
    select reg_nr, school_year, sum(rows_read) as rows_read, sum(rows_quarantined) as rows_quarantined
    from {{ ref('dq_rows_read') }} where reg_nr is not null group by all
),
rules as (
    select reg_nr, school_year, count(distinct rule) as n_rules,
           arg_max(rule, rows_quarantined) as top_rule
    from {{ ref('dq_validity') }} where reg_nr is not null group by all
),
con as (
    select reg_nr, school_year, count(*) filter (where not is_consistent) as n_inconsistent,
           string_agg(check_name, ',' order by check_name) filter (where not is_consistent) as inconsistent_checks
    from {{ ref('dq_consistency') }} group by all
),
outl as (
    select reg_nr, school_year,
        count(*) filter (where outlier_kind = 'enrolment_jump') as n_enrolment_jumps,
        count(*) filter (where outlier_kind = 'age_for_grade') as n_age_for_grade,
        count(distinct learner_id) filter (where outlier_kind = 'duplicate_enrolment') as n_duplicate_enrolments
    from {{ ref('dq_outliers') }} group by all
)
select
    cast(d.institution_id as varchar) as reg_nr,
    cast(d.school_year as integer) as school_year,
    cast(d.institution_name as varchar) as institution_name,
    cast(d.municipality_code as varchar) as municipality_code,
    cast(m.municipality_name as varchar) as municipality_name,
    cast(coalesce(s.n_expected, 0) as bigint) as n_expected,
    cast(coalesce(s.n_received_expected, 0) as bigint) as n_received_expected,
    cast(coalesce(s.n_on_time, 0) as bigint) as n_on_time,
    cast(coalesce(s.n_late, 0) as bigint) as n_late,
    cast(coalesce(s.n_missing, 0) as bigint) as n_missing,
    cast(coalesce(s.n_unexpected, 0) as bigint) as n_unexpected,
    cast(100.0 * s.n_received_expected / nullif(s.n_expected, 0) as double) as completeness_pct,
    cast(100.0 * s.n_on_time / nullif(s.n_expected, 0) as double) as on_time_pct,
    cast(s.max_days_late as integer) as max_days_late,
    cast(coalesce(v.rows_read, 0) as bigint) as rows_read,
    cast(coalesce(v.rows_quarantined, 0) as bigint) as rows_quarantined,
    cast(v.rows_quarantined / nullif(v.rows_read, 0) as double) as quarantine_share,
    cast(coalesce(r.n_rules, 0) as bigint) as n_quarantine_rules,
    cast(r.top_rule as varchar) as top_quarantine_rule,
    cast(coalesce(c.n_inconsistent, 0) as bigint) as n_inconsistent_checks,
    cast(c.inconsistent_checks as varchar) as inconsistent_checks,
    cast(z.z as double) as enrolment_z,
    cast(coalesce(o.n_enrolment_jumps, 0) as bigint) as n_enrolment_jumps,
    cast(coalesce(o.n_age_for_grade, 0) as bigint) as n_age_for_grade,
    cast(coalesce(o.n_duplicate_enrolments, 0) as bigint) as n_duplicate_enrolments
from {{ ref('dim_institutions') }} as d
left join {{ ref('dim_municipalities') }} as m on m.municipality_code = d.municipality_code
left join sub as s on s.reg_nr = d.institution_id and s.school_year = d.school_year
left join val as v on v.reg_nr = d.institution_id and v.school_year = d.school_year
left join rules as r on r.reg_nr = d.institution_id and r.school_year = d.school_year
left join con as c on c.reg_nr = d.institution_id and c.school_year = d.school_year
left join outl as o on o.reg_nr = d.institution_id and o.school_year = d.school_year
left join {{ ref('dq_enrolment_zscores') }} as z on z.reg_nr = d.institution_id and z.school_year = d.school_year
where 1 = 1 {{ school_year_filter('d.school_year') }}
