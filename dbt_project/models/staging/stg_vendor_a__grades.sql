-- Vendor A marks: subject codes are already PRIEKSMETS codes; period and mark mapped through the seeds.
select
    g.iestades_reg_nr as institution_id,
    g.personas_kods as learner_id,
    g.klase as class_name,
    cast(nullif(regexp_extract(g.klase, '^([0-9]+)', 1), '') as integer) as grade,
    s.subject_code,
    g.prieksmets as source_subject,
    p.period,
    g.periods as source_period,
    m.mark,
    m.mark_value,
    m.is_numeric,
    g.vertejums as source_mark,
    g.ievadits as entered_at,
    g._school_year as school_year,
    g._source_file,
    g._source_line
from {{ source('raw', 'vendor_a_grades') }} as g
left join {{ ref('subject_codes') }} as s on s.vendor = 'vendor_a' and s.source_subject = g.prieksmets
left join {{ ref('grading_periods') }} as p on p.vendor = 'vendor_a' and p.source_period = g.periods
left join {{ ref('mark_codes') }} as m on m.vendor = 'vendor_a' and m.source_mark = g.vertejums
