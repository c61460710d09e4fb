{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Population on 1 January t+1 (reference_year) by current municipality, sex and age (100 = 100+), filed
-- under school year t: age on that day = t - birth year, the learners' age convention.
-- Tables before the 2021 reform carry the 119 old units: each is summed into its main successor (the parish
-- parts that went elsewhere are not in CSP's unit-level table, so they stay with the main successor).
with codes as (
    select distinct p.municipality_code as source_code, {{ harmonise_atvk('p.municipality_code') }} as municipality_code
    from {{ ref('stg_csp__population') }} as p
    where 1 = 1 {{ school_year_filter('p.school_year') }}
)
select
    cast(p.school_year as integer) as school_year,
    cast(p.reference_year as integer) as reference_year,
    cast(c.municipality_code as varchar) as municipality_code,
    cast(p.sex as varchar) as sex,
    cast(p.age as integer) as age,
    cast(sum(p.population) as bigint) as population
from {{ ref('stg_csp__population') }} as p
join codes as c on c.source_code = p.municipality_code
where 1 = 1 {{ school_year_filter('p.school_year') }}
group by all
