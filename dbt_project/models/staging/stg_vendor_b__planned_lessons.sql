select
    school_id as institution_id,
    student_code as learner_id,
    cast(strptime(month || '-01', '%Y-%m-%d') as date) as month,
    cast(lessons_planned as integer) as lessons_planned,
    recorded_at as entered_at,
    _school_year as school_year,
    _source_file,
    _source_line
from {{ source('raw', 'vendor_b_planned_lessons') }}
