-- One row per pupil, day and reason with the number of lessons missed.
select
    a.school_id as institution_id,
    a.student_code as learner_id,
    a.date as absence_date,
    cast(a.lessons_missed as integer) as lessons_missed,
    r.reason,
    a.reason as source_reason,
    a.recorded_at as entered_at,
    a._school_year as school_year,
    a._source_file,
    a._source_line
from {{ source('raw', 'vendor_b_attendance') }} as a
left join {{ ref('absence_reasons') }} as r on r.vendor = 'vendor_b' and r.source_reason = a.reason
