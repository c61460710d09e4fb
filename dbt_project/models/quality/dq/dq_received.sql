{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- What arrived: one row per institution x feed x entity x school year x period with loaded rows, and the
-- batch's time (every row of a school system's batch carries it: vendor_a `ievadits`, vendor_b `recorded_at`;
-- a registry confirmation its `apstiprinats`). Monthly absences are keyed by the month of the absence date.
with rows as (
    select _school_year as school_year, iestades_reg_nr as reg_nr, 'vendor_a' as feed, 'grades' as entity,
           periods as period, ievadits as ts
    from {{ source('raw', 'vendor_a_grades') }} where 1 = 1 {{ school_year_filter('_school_year') }}
    union all
    select _school_year, iestades_reg_nr, 'vendor_a', 'absences', strftime(datums, '%Y-%m'), ievadits
    from {{ source('raw', 'vendor_a_absences') }} where 1 = 1 {{ school_year_filter('_school_year') }}
    union all
    select _school_year, iestades_reg_nr, 'vendor_a', 'planned_lessons', menesis, ievadits
    from {{ source('raw', 'vendor_a_planned_lessons') }} where 1 = 1 {{ school_year_filter('_school_year') }}
    union all
    select _school_year, school_id, 'vendor_b', 'grades', term, recorded_at
    from {{ source('raw', 'vendor_b_grades') }} where 1 = 1 {{ school_year_filter('_school_year') }}
    union all
    select _school_year, school_id, 'vendor_b', 'attendance', strftime(date, '%Y-%m'), recorded_at
    from {{ source('raw', 'vendor_b_attendance') }} where 1 = 1 {{ school_year_filter('_school_year') }}
    union all
    select _school_year, school_id, 'vendor_b', 'planned_lessons', month, recorded_at
    from {{ source('raw', 'vendor_b_planned_lessons') }} where 1 = 1 {{ school_year_filter('_school_year') }}
    union all
    select school_year, institution_id, 'viis', 'confirmations', form_code, confirmed_at
    from {{ ref('stg_viis__confirmations') }} where 1 = 1 {{ school_year_filter('school_year') }}
)
select cast(school_year as integer) as school_year, cast(reg_nr as varchar) as reg_nr, cast(feed as varchar) as feed,
       cast(entity as varchar) as entity, cast(period as varchar) as period,
       cast(min(ts) as timestamp) as submitted_at, cast(count(*) as bigint) as rows_received
from rows
where reg_nr is not null and period is not null
group by all
