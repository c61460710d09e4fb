-- Vendor B marks: English subject words, terms and marks mapped to the VIIS / vendor A codes through the seeds.
select
    g.school_id as institution_id,
    g.student_code as learner_id,
    g.class_name,
    cast(nullif(regexp_extract(g.class_name, '^([0-9]+)', 1), '') as integer) as grade,
    s.subject_code,
    g.subject as source_subject,
    p.period,
    g.term as source_period,
    m.mark,
    m.mark_value,
    m.is_numeric,
    g.mark as source_mark,
    g.recorded_at as entered_at,
    g._school_year as school_year,
    g._source_file,
    g._source_line
from {{ source('raw', 'vendor_b_grades') }} as g
left join {{ ref('subject_codes') }} as s on s.vendor = 'vendor_b' and s.source_subject = g.subject
left join {{ ref('grading_periods') }} as p on p.vendor = 'vendor_b' and p.source_period = g.term
left join {{ ref('mark_codes') }} as m on m.vendor = 'vendor_b' and m.source_mark = g.mark
