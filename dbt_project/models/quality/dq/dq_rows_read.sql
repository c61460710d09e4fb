{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Rows read per institution x raw table x school year: loaded (raw.*) + quarantined (quarantine.rows, written by
-- the ingest beside raw.*; read by name, not as a dbt source, because it is no table of its own asset: every
-- raw/* asset writes its share). reg_nr is null when the row names no institution known to the registry that
-- year (entities without an institution, unknown or unreadable reg numbers).
{%- set tables = [
    ('csp_graduate_outcomes', none), ('csp_population', none), ('csp_wages', none),
    ('exams_results', 'iestades_reg_nr'), ('izm_general_schools', 'registracijas_nr'), ('nva_unemployed', none),
    ('vendor_a_absences', 'iestades_reg_nr'), ('vendor_a_grades', 'iestades_reg_nr'),
    ('vendor_a_planned_lessons', 'iestades_reg_nr'), ('vendor_b_attendance', 'school_id'),
    ('vendor_b_grades', 'school_id'), ('vendor_b_planned_lessons', 'school_id'),
    ('viis_academic_staff', 'iestades_reg_nr'), ('viis_classes', 'iestades_reg_nr'), ('viis_classifiers', none),
    ('viis_confirmations', 'iestades_reg_nr'), ('viis_enrolments', 'iestades_reg_nr'),
    ('viis_institutions', 'reg_nr'), ('viis_learners', none), ('viis_programmes', 'iestades_reg_nr'),
    ('viis_public_institutions', 'registracijas_numurs'), ('viis_staff_posts', 'iestades_reg_nr'),
    ('vzd_addresses', none)] %}
with loaded as (
{%- for t, col in tables %}
    select '{{ t }}' as target_table, _school_year as school_year,
           {% if col %}cast({{ col }} as varchar){% else %}cast(null as varchar){% endif %} as named_reg_nr,
           count(*) as n
    from {{ source('raw', t) }} where 1 = 1 {{ school_year_filter('_school_year') }}
    group by all
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
),
quarantined as (
    select q.target_table, q._school_year as school_year,
           json_extract_string(q.record, '$."' || t.record_key || '"') as named_reg_nr, count(*) as n
    from quarantine.rows as q
    left join {{ ref('dq_ingest_tables') }} as t on t.target_table = q.target_table
    where 1 = 1 {{ school_year_filter('q._school_year') }}
    group by all
),
known as (
    select distinct school_year, institution_id from {{ ref('stg_viis__institutions') }}
),
counted as (
    select target_table, school_year, named_reg_nr, n as n_loaded, 0 as n_quarantined from loaded
    union all
    select target_table, school_year, named_reg_nr, 0, n from quarantined
)
select
    cast(k.institution_id as varchar) as reg_nr,
    cast(c.school_year as integer) as school_year,
    cast(t.feed as varchar) as feed,
    cast(t.entity as varchar) as entity,
    cast(c.target_table as varchar) as target_table,
    cast(sum(c.n_loaded) as bigint) as rows_loaded,
    cast(sum(c.n_quarantined) as bigint) as rows_quarantined,
    cast(sum(c.n_loaded + c.n_quarantined) as bigint) as rows_read
from counted as c
join {{ ref('dq_ingest_tables') }} as t on t.target_table = c.target_table
left join known as k on k.school_year = c.school_year and k.institution_id = c.named_reg_nr
group by all
