{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Expected vs received submissions per institution x feed x school year (from dq_submissions).
-- completeness_pct = 100 x expected submissions received / expected submissions (null when none expected).
select
    cast(reg_nr as varchar) as reg_nr,
    cast(any_value(municipality_code) as varchar) as municipality_code,
    cast(school_year as integer) as school_year,
    cast(feed as varchar) as feed,
    cast(count(*) filter (where expected) as bigint) as n_expected,
    cast(count(*) filter (where expected and received) as bigint) as n_received_expected,
    cast(count(*) filter (where status = 'missing') as bigint) as n_missing,
    cast(count(*) filter (where status = 'unexpected') as bigint) as n_unexpected,
    cast(100.0 * count(*) filter (where expected and received) / nullif(count(*) filter (where expected), 0) as double)
        as completeness_pct
from {{ ref('dq_submissions') }}
where 1 = 1 {{ school_year_filter('school_year') }}
group by reg_nr, school_year, feed
