"""The simulated country, in memory: the hand-over between the simulation (population.py) and the writers of
the feed files (activity.py, writers/). Every frame is a Polars DataFrame; column names and meanings below
are the interface, so change them only together with both sides.

Conventions: `year` is the school-year key (2024 = 2024/25); dates are pl.Date; sex is 'M'/'F';
`person_key` is an internal integer (never written to a file); `personal_code` is the real-format code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class Country:
    seed: int
    scale: float
    years: list[int]

    # one row per institution ever active in the simulated years
    #   reg_nr (str, 10 digits), name, kind (Veids, e.g. 'Vispārējās izglītības iestāde'),
    #   type (Tips, e.g. 'Vispārizglītojošā pamatskola'), founder_type ('PASVALDIBA'|'VALSTS'|'PRIVATS'),
    #   founder (str), sector ('general'|'preschool'|'vocational'|'higher'|'other'),
    #   grade_min, grade_max (int, null if no grades 1-12), has_preschool (bool),
    #   atvk_old (7-digit pre-2021 unit code), atvk_new (7-digit current unit code),
    #   address_code (9 digits, in `addresses`), address_old (address text as before the reform),
    #   address_new (address text after the reform), opened (pl.Date), closed (pl.Date|null),
    #   vendor ('A'|'B'|null: school-management system of a general school), pupils_ref (int|null: reference
    #   pupil count of the real 2020/21 extract), from_reference (bool: a real institution of reference/)
    institutions: pl.DataFrame

    # address points: address_code, address (VZD STD text, post-reform), atvk_new, atvk_old,
    #   x_lks92, y_lks92, lat, lon
    addresses: pl.DataFrame

    # every person the feeds mention: person_key, personal_code, first_name, last_name, sex, birth_date,
    #   address_code (declared residence, in `addresses`), role ('learner'|'staff'|'academic'|'other')
    persons: pl.DataFrame

    # licensed programmes: reg_nr, programme_code (8 digits), name, programme_kind (classifier
    #   PROGRAMMAS_VEIDS: 'PIRMSSKOLA'|'PAMATIZGLITIBA'|'VIDEJA'|'PROFESIONALA'|'AUGSTAKA'|'SPECIALA'),
    #   licence_nr, licence_date, accredited_until
    programmes: pl.DataFrame

    # classes per school year: class_id (str), year, reg_nr, grade (1-12), letter, programme_code
    classes: pl.DataFrame

    # enrolment spells, ONE PER SCHOOL YEAR segment (a pupil's class placement, a VET course year, an HE study
    #   year, a pre-school year), so each year's registry extract holds exactly that year's spells. A spell
    #   open at the end of the year ends on 31 Aug with end_reason PAREJA (promoted) or ATSTATS (kept in the
    #   same grade); mid-year leavers end on their day with PARCELTS / ATSKAITITS_NESEKMIBA / IZBRAUCIS / MIRIS;
    #   completers with PABEIGTS. Columns: person_key, reg_nr, programme_code, grade (1-12 or null), course (1-6 or null, VET/HE),
    #   class_id (or null), start_date, end_date (null = still enrolled), end_reason (classifier BEIGU_IEMESLS
    #   or null), year_started (school year of start_date)
    enrolments: pl.DataFrame

    # general-education spells (grades 1-12), the population grades, absences and exams are drawn for:
    #   year, person_key, reg_nr, grade, class_id, programme_code, start_date, end_date (never null: a spell
    #   open at the year's end ends on 31 Aug), end_reason, repeating (bool: same grade as the previous year)
    learner_years: pl.DataFrame

    # staff posts: person_key, reg_nr, post_code (classifier AMATS), subject_code (classifier PRIEKSMETS or
    #   null), fte (float), qualification ('ATBILST'|'NEATBILST'|'APGUST'), education (IZGLITIBAS_LIMENIS),
    #   start_date, end_date (null = still in post)
    staff_posts: pl.DataFrame

    # academic staff posts in higher education: person_key, reg_nr, position (AKAD_AMATS), degree
    #   (ZIN_GRADS or null), fte, start_date, end_date
    academic_posts: pl.DataFrame

    # completions: person_key, year, reg_nr, level ('basic'|'secondary'|'vocational'|'higher'),
    #   programme_code, date
    completions: pl.DataFrame

    # classifier values: classifier, code, name_lv, name_en
    classifiers: pl.DataFrame

    # resident population on 1 January of each calendar year: calendar_year, atvk_new, sex, age (0-100, 100 =
    #   100+), population
    population: pl.DataFrame

    # extra per-run facts for the manifest/bench (counts, parameters)
    stats: dict = field(default_factory=dict)
