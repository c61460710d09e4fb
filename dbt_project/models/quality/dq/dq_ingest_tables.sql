-- Every raw table (one per contract entity of models/contracts/), its feed and entity, and where a row names
-- its institution: the raw column and the field name in a quarantined row's `record` JSON (the contract's
-- `source` name). Null: the entity names no institution. A new contract entity needs a row here (the test
-- dq_ingest_tables_cover_raw in tests/integration/test_dq_marts.py fails otherwise).
select * from (values
    ('csp_graduate_outcomes', 'csp', 'graduate_outcomes', null, null),
    ('csp_population', 'csp', 'population', null, null),
    ('csp_wages', 'csp', 'wages', null, null),
    ('exams_results', 'exams', 'results', 'iestades_reg_nr', 'iestades_reg_nr'),
    ('izm_general_schools', 'izm', 'general_schools', 'registracijas_nr', 'Iestādes reģistrācijas Nr.'),
    ('nva_unemployed', 'nva', 'unemployed', null, null),
    ('vendor_a_absences', 'vendor_a', 'absences', 'iestades_reg_nr', 'Iestādes reģ. nr.'),
    ('vendor_a_grades', 'vendor_a', 'grades', 'iestades_reg_nr', 'Iestādes reģ. nr.'),
    ('vendor_a_planned_lessons', 'vendor_a', 'planned_lessons', 'iestades_reg_nr', 'Iestādes reģ. nr.'),
    ('vendor_b_attendance', 'vendor_b', 'attendance', 'school_id', 'school_id'),
    ('vendor_b_grades', 'vendor_b', 'grades', 'school_id', 'school_id'),
    ('vendor_b_planned_lessons', 'vendor_b', 'planned_lessons', 'school_id', 'school_id'),
    ('viis_academic_staff', 'viis', 'academic_staff', 'iestades_reg_nr', 'iestadesRegNr'),
    ('viis_classes', 'viis', 'classes', 'iestades_reg_nr', 'iestadesRegNr'),
    ('viis_classifiers', 'viis', 'classifiers', null, null),
    ('viis_confirmations', 'viis', 'confirmations', 'iestades_reg_nr', 'iestadesRegNr'),
    ('viis_enrolments', 'viis', 'enrolments', 'iestades_reg_nr', 'iestadesRegNr'),
    ('viis_institutions', 'viis', 'institutions', 'reg_nr', 'regNr'),
    ('viis_learners', 'viis', 'learners', null, null),
    ('viis_programmes', 'viis', 'programmes', 'iestades_reg_nr', 'iestadesRegNr'),
    ('viis_public_institutions', 'viis_public', 'institutions', 'registracijas_numurs', 'Reģistrācijas numurs'),
    ('viis_staff_posts', 'viis', 'staff_posts', 'iestades_reg_nr', 'iestadesRegNr'),
    ('vzd_addresses', 'vzd', 'addresses', null, null)
) as t(target_table, feed, entity, reg_column, record_key)
