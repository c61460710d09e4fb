-- One row per missed lesson.
select
    a.iestades_reg_nr as institution_id,
    a.personas_kods as learner_id,
    a.datums as absence_date,
    cast(a.stunda as integer) as lesson_number,
    r.reason,
    a.iemesls as source_reason,
    a.ievadits as entered_at,
    a._school_year as school_year,
    a._source_file,
    a._source_line
from {{ source('raw', 'vendor_a_absences') }} as a
left join {{ ref('absence_reasons') }} as r on r.vendor = 'vendor_a' and r.source_reason = a.iemesls
