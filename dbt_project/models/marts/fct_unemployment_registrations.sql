{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
select
    cast(school_year as integer) as school_year,
    cast(person_id as varchar) as person_id,
    cast(registration_date as date) as registration_date,
    cast(deregistration_date as date) as deregistration_date
from {{ ref('stg_nva__unemployed') }}
where 1 = 1 {{ school_year_filter('school_year') }}
