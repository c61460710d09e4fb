{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- On time / late / missing per institution x feed x entity x school year (from dq_submissions).
-- on_time_pct = 100 x on time / expected; days late among the late ones.
select
    cast(reg_nr as varchar) as reg_nr,
    cast(any_value(municipality_code) as varchar) as municipality_code,
    cast(school_year as integer) as school_year,
    cast(feed as varchar) as feed,
    cast(entity as varchar) as entity,
    cast(count(*) filter (where expected) as bigint) as n_expected,
    cast(count(*) filter (where status = 'on_time') as bigint) as n_on_time,
    cast(count(*) filter (where status = 'late') as bigint) as n_late,
    cast(count(*) filter (where status = 'missing') as bigint) as n_missing,
    cast(100.0 * count(*) filter (where status = 'on_time') / nullif(count(*) filter (where expected), 0) as double)
        as on_time_pct,
    cast(avg(days_late) filter (where status = 'late') as double) as mean_days_late,
    cast(max(days_late) filter (where status = 'late') as integer) as max_days_late
from {{ ref('dq_submissions') }}
where 1 = 1 {{ school_year_filter('school_year') }}
group by reg_nr, school_year, feed, entity
