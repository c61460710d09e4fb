{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Cross-source consistency checks, one row per institution x school year x check that could be made:
--   izm_pupils           registry pupils (grades 1-12) on 1 September vs the ministry's general-school list
--                        (skolenu_skaits_1_12), where the institution is on that list
--   izm_preschool        registry pre-school learners on 1 September vs the list's pirmsskolas_berni
--   school_system        the school systems whose rows arrived vs the registry's `sistema` (A/B/none): rows
--                        from a system the registry does not name for the institution are inconsistent
--   unexpected_batches   submissions received that nobody expected (school-system rows for periods without
--                        pupils in the registry, confirmations without learners on 1 September)
-- Counts agree when |registry - other| <= max(1, 1 % of the larger): the ingest quarantines a few rows.
with reg as (
    select school_year, institution_id as reg_nr,
           count(distinct learner_id) filter (where grade between 1 and 12) as pupils,
           count(distinct learner_id) filter (where programme_kind = 'PIRMSSKOLA') as preschool
    from {{ ref('fct_enrolments') }} where 1 = 1 {{ school_year_filter('school_year') }} group by all
),
izm as (
    select school_year, institution_id as reg_nr, pupils_grades_1_12 as pupils_1_12, preschool_children
    from {{ ref('stg_izm__general_schools') }} where 1 = 1 {{ school_year_filter('school_year') }}
),
counts as (
    select i.school_year, i.reg_nr, 'izm_pupils' as check_name, coalesce(r.pupils, 0) as registry_value,
           i.pupils_1_12 as other_value
    from izm as i left join reg as r using (school_year, reg_nr)
    where i.pupils_1_12 is not null
    union all
    select i.school_year, i.reg_nr, 'izm_preschool', coalesce(r.preschool, 0), i.preschool_children
    from izm as i left join reg as r using (school_year, reg_nr)
    where i.preschool_children is not null
),
systems as (
    select r.school_year, r.reg_nr, string_agg(distinct upper(right(r.feed, 1)), ',' order by upper(right(r.feed, 1))) as sent,
           any_value(s.school_system) as registered
    from {{ ref('dq_received') }} as r
    left join {{ ref('stg_viis__institutions') }} as s on s.school_year = r.school_year and s.institution_id = r.reg_nr
    where r.feed like 'vendor_%' {{ school_year_filter('r.school_year') }}
    group by r.school_year, r.reg_nr
),
unexpected as (
    select school_year, reg_nr, count(*) filter (where status = 'unexpected') as n,
           string_agg(feed || '/' || entity || ' ' || period, ', ' order by feed, entity, period)
               filter (where status = 'unexpected') as what
    from {{ ref('dq_submissions') }} where 1 = 1 {{ school_year_filter('school_year') }} group by all
)
select cast(reg_nr as varchar) as reg_nr, cast(school_year as integer) as school_year, cast(check_name as varchar) as check_name,
       cast(registry_value as double) as registry_value, cast(other_value as double) as other_value,
       cast(other_value - registry_value as double) as difference,
       cast(abs(other_value - registry_value) <= greatest(1, 0.01 * greatest(registry_value, other_value)) as boolean) as is_consistent,
       cast('registry ' || registry_value || ', ministry list ' || other_value as varchar) as detail
from counts
union all
select reg_nr, school_year, 'school_system', null, null, null,
       coalesce(sent = registered, false),
       'registry sistema ' || coalesce(registered, 'none') || ', rows from system ' || sent
from systems
union all
select reg_nr, school_year, 'unexpected_batches', 0, n, n, n = 0,
       case when n = 0 then 'none' else n || ' unexpected: ' || what end
from unexpected
