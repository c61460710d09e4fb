{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='school_year', on_schema_change='fail', tags=['yearly']) }}
-- Quarantine share by rule: one row per institution x school year x feed x entity x rule with quarantined rows
-- (the ingest's rule: the first one a row broke). rows_read = every row of that institution, entity and year
-- (loaded + quarantined, dq_rows_read); share = rows_quarantined / rows_read. The example is the first
-- quarantined row by (file, line): institutions are told the file and line, never a person.
with q as (
    select q.target_table, q._school_year as school_year, q.rule, q._source_file, q._source_line,
           json_extract_string(q.record, '$."' || t.record_key || '"') as named_reg_nr, t.feed, t.entity
    from quarantine.rows as q
    join {{ ref('dq_ingest_tables') }} as t on t.target_table = q.target_table
    where 1 = 1 {{ school_year_filter('q._school_year') }}
),
known as (
    select distinct school_year, institution_id from {{ ref('stg_viis__institutions') }}
),
per_rule as (
    select k.institution_id as reg_nr, q.school_year, q.feed, q.entity, q.target_table, q.rule,
           count(*) as rows_quarantined,
           arg_min(q._source_file, [q._source_file, lpad(cast(q._source_line as varchar), 12, '0')]) as example_file,
           arg_min(q._source_line, [q._source_file, lpad(cast(q._source_line as varchar), 12, '0')]) as example_line
    from q
    left join known as k on k.school_year = q.school_year and k.institution_id = q.named_reg_nr
    group by all
)
select
    cast(p.reg_nr as varchar) as reg_nr,
    cast(p.school_year as integer) as school_year,
    cast(p.feed as varchar) as feed,
    cast(p.entity as varchar) as entity,
    cast(p.rule as varchar) as rule,
    cast(p.rows_quarantined as bigint) as rows_quarantined,
    cast(r.rows_read as bigint) as rows_read,
    cast(p.rows_quarantined / r.rows_read as double) as share,
    cast(p.example_file as varchar) as example_file,
    cast(p.example_line as integer) as example_line
from per_rule as p
join {{ ref('dq_rows_read') }} as r
    on r.school_year = p.school_year and r.target_table = p.target_table and r.reg_nr is not distinct from p.reg_nr
