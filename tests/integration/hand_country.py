"""The hand-computed fixture country (issue 3 floor): 2 municipalities, 3 general schools + 1 university,
28 learners over the school years 2022/23 and 2023/24, written out as readable rows and loaded straight into
raw.* tables (schema from the contracts, via the ingest's own ensure_tables). The expected indicator values are
worked out by hand in test_indicators_hand_computed.py from THESE rows; keep the two in step.

Who is who (t = 2022 -> 2023):
  Municipality A = Jelgava 0003000 (state city): I1 Jelgavas 1. vidusskola (vendor A, grades 1-12 + a pre-school
  group), I2 Jelgavas 2. pamatskola (vendor B), U Jelgavas universitāte (HE, academic staff).
  Municipality B = Ludzas novads 0037000: I3 Ludzas vidusskola (vendor A, grades 1-12 + a VET programme); its
  VIIS atvk is the pre-2021 code 0680200 in 2022 and a current sub-unit code 0037201 in 2023 (harmonisation).
  P15 repeats grade 1, P09 drops out, P14 moves abroad, P02 transfers I1 -> I2 in January 2024, P04/P05/P13/P25
  complete grade 9 (-> grade 10, VET, grade 10 in another municipality, nothing), P06/P07/P20 complete grade 12
  (-> university, nothing, nothing). P17 changes programme inside I3 in 2023 (two spells, one learner-year).
  T01 teaches in I1 and I2, T03 leaves after 2022.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import duckdb

from pipelines.common.contracts import all_entities
from pipelines.ingest.load import ensure_tables, raw_columns
from pipelines.settings import SEEDS_DIR

D = dt.date
YEARS = (2022, 2023)

I1, I2, I3, U = "4313900001", "4313900002", "4312900003", "9000900004"
MUNI_A, MUNI_B = "0003000", "0037000"
R_KM = 6371.0088


def pid(key: str) -> str:
    """A 16-hex pseudonym (the ingest's shape) for a readable person key (the raw layer holds pseudonyms only)."""
    return hashlib.sha256(f"hand-country:{key}".encode()).hexdigest()[:16]


# reg_nr: name, veids, tips, founder type, founder, {year: atvk}, address code, vendor (sistema)
INSTITUTIONS = {
    I1: ("Jelgavas 1. vidusskola", "Vispārējās izglītības iestāde", "Vispārizglītojošā vidusskola", "PASVALDIBA",
         "Jelgavas valstspilsētas pašvaldība", {2022: "0003000", 2023: "0003000"}, "100000001", "A"),
    I2: ("Jelgavas 2. pamatskola", "Vispārējās izglītības iestāde", "Vispārizglītojošā pamatskola", "PASVALDIBA",
         "Jelgavas valstspilsētas pašvaldība", {2022: "0003000", 2023: "0003000"}, "100000002", "B"),
    I3: ("Ludzas vidusskola", "Vispārējās izglītības iestāde", "Vispārizglītojošā vidusskola", "PASVALDIBA",
         "Ludzas novada pašvaldība", {2022: "0680200", 2023: "0037201"}, "100000003", "A"),
    U: ("Jelgavas universitāte", "Augstākās izglītības iestāde", "Augstskola", "VALSTS",
        "Izglītības un zinātnes ministrija", {2022: "0003000", 2023: "0003000"}, "100000004", None),
}

# (institution, programme code, name, kind) — the same both years
PROGRAMMES = [
    (I1, "01011111", "Vispārējās pirmsskolas izglītības programma", "PIRMSSKOLA"),
    (I1, "21011111", "Pamatizglītības programma", "PAMATIZGLITIBA"),
    (I1, "31011011", "Vispārējās vidējās izglītības programma", "VIDEJA"),
    (I2, "21011111", "Pamatizglītības programma", "PAMATIZGLITIBA"),
    (I3, "21011111", "Pamatizglītības programma", "PAMATIZGLITIBA"),
    (I3, "31011011", "Vispārējās vidējās izglītības programma", "VIDEJA"),
    (I3, "21015611", "Speciālās pamatizglītības programma", "SPECIALA"),
    (I3, "35481021", "Profesionālās vidējās izglītības programma", "PROFESIONALA"),
    (U, "43310101", "Bakalaura studiju programma", "AUGSTAKA"),
]

# Address points (both years). Homes lie on the meridian of their school, so distance = R * dlat (radians).
# code: (text, atvk, lat, lon)
ADDRESSES = {
    "100000001": ("SKOLAS IELA 1, JELGAVA, LV-3001", "0003000", 56.65, 23.72),          # I1
    "100000002": ("PASTA IELA 2, JELGAVA, LV-3001", "0003000", 56.66, 23.70),           # I2
    "100000003": ("RAIŅA IELA 3, LUDZA, LUDZAS NOVADS, LV-5701", "0037201", 56.55, 27.72),  # I3
    "100000004": ("LIELĀ IELA 2, JELGAVA, LV-3001", "0003000", 56.655, 23.73),          # U
    "200000001": ("MĀJU IELA 1, JELGAVA, LV-3001", "0003000", 56.66, 23.72),            # H1: I1 + 0.01°
    "200000002": ("MĀJU IELA 2, JELGAVA, LV-3001", "0003000", 56.67, 23.72),            # H2: I1 + 0.02°
    "200000003": ("MĀJU IELA 3, JELGAVA, LV-3001", "0003000", 56.71, 23.70),            # H3: I2 + 0.05°
    "200000004": ("MĀJAS, ELEJAS PAG., JELGAVAS NOVADS, LV-3023", "0030260", 56.53, 23.72),  # H4: I1 - 0.12°
    "200000005": ("MĀJU IELA 5, LUDZA, LUDZAS NOVADS, LV-5701", "0037201", 56.58, 27.72),   # H5: I3 + 0.03°
    "200000006": ("MĀJAS, ISTRAS PAG., LUDZAS NOVADS, LV-5706", "0037264", 56.70, 27.72),   # H6: I3 + 0.15°
    "200000007": ("MĀJU IELA 7, JELGAVA, LV-3001", "0003000", 56.76, 23.70),            # H7: I2 + 0.10°
    "200000008": ("MĀJAS, MAKAŠĀNU PAG., RĒZEKNES NOVADS, LV-4626", "0043250", 56.35, 27.72),  # H8: I3 - 0.20°
}
H1, H2, H3, H4, H5, H6, H7, H8 = (f"20000000{i}" for i in range(1, 9))
UNKNOWN_ADDR = "299999999"  # not in VZD -> home unknown

# learner: sex (S female, V male), birth date, {year: declared address code}
LEARNERS = {
    "P01": ("S", D(2015, 3, 1), {2022: H1, 2023: H1}),
    "P02": ("V", D(2013, 3, 1), {2022: H2, 2023: H2}),
    "P03": ("S", D(2010, 3, 1), {2022: H1, 2023: H1}),
    "P04": ("V", D(2007, 3, 1), {2022: H4, 2023: H4}),
    "P05": ("S", D(2007, 3, 1), {2022: H1, 2023: H1}),
    "P06": ("V", D(2004, 3, 1), {2022: H2, 2023: H2}),
    "P07": ("S", D(2004, 3, 1), {2022: H4}),
    "P08": ("V", D(2007, 3, 1), {2022: H1, 2023: H1}),   # overage: grade 7 at 15
    "P09": ("V", D(2008, 3, 1), {2022: H2}),
    "K01": ("S", D(2018, 3, 1), {2022: H1, 2023: H1}),
    "K02": ("V", D(2016, 3, 1), {2022: H1, 2023: H1}),
    "P10": ("S", D(2014, 3, 1), {2022: H3, 2023: H3}),
    "P11": ("V", D(2012, 3, 1), {2022: UNKNOWN_ADDR, 2023: UNKNOWN_ADDR}),
    "P12": ("S", D(2010, 3, 1), {2022: None, 2023: None}),
    "P13": ("V", D(2007, 3, 1), {2022: H3, 2023: H5}),
    "P14": ("S", D(2007, 3, 1), {2022: H3}),
    "P15": ("V", D(2015, 3, 1), {2022: H7, 2023: H7}),
    "P16": ("V", D(2015, 3, 1), {2022: H5, 2023: H5}),
    "P17": ("S", D(2012, 3, 1), {2022: H5, 2023: H5}),
    "P18": ("V", D(2006, 3, 1), {2022: H5, 2023: H5}),
    "P19": ("S", D(2005, 3, 1), {2022: H6, 2023: H6}),
    "P20": ("V", D(2002, 3, 1), {2022: H8}),             # overage: grade 12 at 20
    "P25": ("V", D(2007, 3, 1), {2022: H6}),
    "V01": ("S", D(2005, 3, 1), {2022: H5, 2023: H5}),
    "S01": ("V", D(2003, 3, 1), {2022: H2, 2023: H2}),
    "P21": ("S", D(2016, 3, 1), {2023: H2}),
    "P22": ("V", D(2016, 3, 1), {2023: H3}),
    "P23": ("S", D(2016, 3, 1), {2023: H5}),
}

# Enrolment spells: (year, learner, institution, programme, grade, course, class letter, start, end, end reason).
# None start/end = 1 Sep of the year / 31 Aug of the next year.
PRE, BAS, SEC, VET, BSC = "01011111", "21011111", "31011011", "35481021", "43310101"
ENROLMENTS = [
    # 2022/23 -----------------------------------------------------------------------------------------------
    (2022, "P01", I1, BAS, 1, None, "a", None, None, "PAREJA"),
    (2022, "P02", I1, BAS, 3, None, "a", None, None, "PAREJA"),
    (2022, "P03", I1, BAS, 5, None, "a", None, None, "PAREJA"),
    (2022, "P04", I1, BAS, 9, None, "a", None, D(2023, 6, 14), "PABEIGTS"),
    (2022, "P05", I1, BAS, 9, None, "a", None, D(2023, 6, 14), "PABEIGTS"),
    (2022, "P06", I1, SEC, 12, None, "a", None, D(2023, 6, 20), "PABEIGTS"),
    (2022, "P07", I1, SEC, 12, None, "a", None, D(2023, 6, 20), "PABEIGTS"),
    (2022, "P08", I1, BAS, 7, None, "a", None, None, "PAREJA"),
    (2022, "P09", I1, BAS, 8, None, None, None, D(2023, 3, 10), "ATSKAITITS_NESEKMIBA"),  # no class id
    (2022, "K01", I1, PRE, None, None, None, None, None, "PAREJA"),
    (2022, "K02", I1, PRE, None, None, None, None, None, "PAREJA"),
    (2022, "P10", I2, BAS, 2, None, "a", None, None, "PAREJA"),
    (2022, "P11", I2, BAS, 4, None, "a", None, None, "PAREJA"),
    (2022, "P12", I2, BAS, 6, None, "a", None, None, "PAREJA"),
    (2022, "P13", I2, BAS, 9, None, "a", None, D(2023, 6, 14), "PABEIGTS"),
    (2022, "P14", I2, BAS, 9, None, "a", None, D(2023, 2, 1), "IZBRAUCIS"),
    (2022, "P15", I2, BAS, 1, None, "a", None, None, "ATSTATS"),
    (2022, "P16", I3, BAS, 1, None, "a", None, None, "PAREJA"),
    (2022, "P17", I3, BAS, 4, None, "a", None, None, "PAREJA"),
    (2022, "P25", I3, BAS, 9, None, "a", None, D(2023, 6, 14), "PABEIGTS"),
    (2022, "P18", I3, SEC, 10, None, "a", None, None, "PAREJA"),
    (2022, "P19", I3, SEC, 11, None, "a", None, None, "PAREJA"),
    (2022, "P20", I3, SEC, 12, None, "a", None, D(2023, 6, 20), "PABEIGTS"),
    (2022, "V01", I3, VET, None, 1, None, None, None, "PAREJA"),
    (2022, "S01", U, BSC, None, 1, None, None, None, "PAREJA"),
    # 2023/24 -----------------------------------------------------------------------------------------------
    (2023, "P01", I1, BAS, 2, None, "a", None, None, "PAREJA"),
    (2023, "P02", I1, BAS, 4, None, "a", None, D(2024, 1, 12), "PARCELTS"),
    (2023, "P03", I1, BAS, 6, None, "a", None, None, "PAREJA"),
    (2023, "P04", I1, SEC, 10, None, "a", None, None, "PAREJA"),
    (2023, "P08", I1, BAS, 8, None, "a", None, None, "PAREJA"),
    (2023, "K01", I1, PRE, None, None, None, None, None, "PAREJA"),
    (2023, "K02", I1, BAS, 1, None, "a", None, None, "PAREJA"),
    (2023, "P21", I1, BAS, 1, None, "a", None, None, "PAREJA"),
    (2023, "P10", I2, BAS, 3, None, "a", None, None, "PAREJA"),
    (2023, "P11", I2, BAS, 5, None, "a", None, None, "PAREJA"),
    (2023, "P12", I2, BAS, 7, None, "a", None, None, "PAREJA"),
    (2023, "P15", I2, BAS, 1, None, "a", None, None, "PAREJA"),
    (2023, "P22", I2, BAS, 1, None, "a", None, None, "PAREJA"),
    (2023, "P02", I2, BAS, 4, None, "b", D(2024, 1, 15), None, "PAREJA"),
    (2023, "P16", I3, BAS, 2, None, "a", None, None, "PAREJA"),
    # P17 changes programme inside I3 in January: two spells, still ONE learner-year row at I3
    (2023, "P17", I3, BAS, 5, None, "a", None, D(2023, 12, 29), "CITS"),
    (2023, "P17", I3, "21015611", 5, None, "s", D(2024, 1, 2), None, "PAREJA"),
    (2023, "P18", I3, SEC, 11, None, "a", None, None, "PAREJA"),
    (2023, "P19", I3, SEC, 12, None, "a", None, D(2024, 6, 20), "PABEIGTS"),
    (2023, "P13", I3, SEC, 10, None, "a", None, None, "PAREJA"),
    (2023, "P23", I3, BAS, 1, None, "a", None, None, "PAREJA"),
    (2023, "P05", I3, VET, None, 1, None, None, None, "PAREJA"),
    (2023, "V01", I3, VET, None, 2, None, None, D(2024, 6, 20), "PABEIGTS"),
    (2023, "S01", U, BSC, None, 2, None, None, None, "PAREJA"),
    (2023, "P06", U, BSC, None, 1, None, None, None, "PAREJA"),
]

# Year-end (and a few term) marks. Vendor A (I1, I3): (year, inst, learner, class text, subject, period, mark);
# vendor B (I2): subject words, terms T1/T2/FINAL, marks NA/PASS/ACHIEVED...
GRADES_A = [
    # 2022: I1
    (2022, I1, "P02", "3.a", "MAT", "GADA", "A"),      # grade 3: levels, outside grades 4-12
    (2022, I1, "P02", "3.a", "LAT", "GADA", "P"),
    (2022, I1, "P03", "5.a", "MAT", "GADA", "7"), (2022, I1, "P03", "5.a", "LAT", "GADA", "8"),
    (2022, I1, "P04", "9.a", "MAT", "1_SEM", "8"),     # a semester mark: not a year mark
    (2022, I1, "P04", "9.a", "MAT", "GADA", "9"), (2022, I1, "P04", "9.a", "LAT", "GADA", "10"),
    (2022, I1, "P05", "9.a", "MAT", "GADA", "6"), (2022, I1, "P05", "9.a", "LAT", "GADA", "nv"),
    (2022, I1, "P06", "12.a", "MAT", "GADA", "5"), (2022, I1, "P06", "12.a", "LAT", "GADA", "6"),
    (2022, I1, "P06", "12.a", "SPO", "GADA", "i"),
    (2022, I1, "P07", "12.a", "MAT", "GADA", "3"), (2022, I1, "P07", "12.a", "LAT", "GADA", "7"),
    (2022, I1, "P08", "7.a", "MAT", "GADA", "4"), (2022, I1, "P08", "7.a", "LAT", "GADA", "5"),
    (2022, I1, "P09", "8", "MAT", "1_SEM", "2"),        # dropped out in March: no year marks
    # 2022: I3
    (2022, I3, "P17", "4.a", "MAT", "GADA", "10"), (2022, I3, "P17", "4.a", "LAT", "GADA", "9"),
    (2022, I3, "P18", "10.a", "MAT", "GADA", "5"), (2022, I3, "P18", "10.a", "LAT", "GADA", "4"),
    (2022, I3, "P19", "11a", "MAT", "GADA", "8"), (2022, I3, "P19", "11a", "LAT", "GADA", "8"),
    (2022, I3, "P20", "12.a", "MAT", "GADA", "1"), (2022, I3, "P20", "12.a", "LAT", "GADA", "nv"),
    (2022, I3, "P25", "9.a", "MAT", "GADA", "6"), (2022, I3, "P25", "9.a", "LAT", "GADA", "7"),
    # 2023: I1
    (2023, I1, "P01", "2.a", "MAT", "GADA", "T"),
    (2023, I1, "P02", "4.a", "MAT", "1_SEM", "6"),     # left for I2 in January: only a semester mark here
    (2023, I1, "P03", "6.a", "MAT", "GADA", "6"), (2023, I1, "P03", "6.a", "LAT", "GADA", "7"),
    (2023, I1, "P04", "10.a", "MAT", "GADA", "8"), (2023, I1, "P04", "10.a", "LAT", "GADA", "9"),
    (2023, I1, "P08", "8.a", "MAT", "GADA", "3"), (2023, I1, "P08", "8.a", "LAT", "GADA", "nv"),
    # 2023: I3
    (2023, I3, "P17", "5", "MAT", "GADA", "9"), (2023, I3, "P17", "5", "LAT", "GADA", "9"),
    (2023, I3, "P18", "11.a", "MAT", "GADA", "2"), (2023, I3, "P18", "11.a", "LAT", "GADA", "3"),
    (2023, I3, "P19", "12.a", "MAT", "GADA", "7"), (2023, I3, "P19", "12.a", "LAT", "GADA", "6"),
    (2023, I3, "P13", "10.a", "MAT", "GADA", "5"), (2023, I3, "P13", "10.a", "LAT", "GADA", "nv"),
]
GRADES_B = [
    (2022, I2, "P10", "2a", "math", "FINAL", "ACHIEVED"),
    (2022, I2, "P11", "4a", "math", "T1", "5"),
    (2022, I2, "P11", "4a", "math", "FINAL", "8"), (2022, I2, "P11", "4a", "latvian", "FINAL", "9"),
    (2022, I2, "P12", "6a", "math", "FINAL", "2"), (2022, I2, "P12", "6a", "latvian", "FINAL", "NA"),
    (2022, I2, "P13", "9a", "math", "FINAL", "6"), (2022, I2, "P13", "9a", "latvian", "FINAL", "7"),
    (2022, I2, "P13", "9a", "sports", "FINAL", "PASS"),
    (2023, I2, "P11", "5a", "math", "FINAL", "7"), (2023, I2, "P11", "5a", "latvian", "FINAL", "7"),
    (2023, I2, "P12", "7a", "math", "FINAL", "4"), (2023, I2, "P12", "7a", "latvian", "FINAL", "5"),
    (2023, I2, "P02", "4b", "math", "FINAL", "10"), (2023, I2, "P02", "4b", "latvian", "FINAL", "8"),
]


def _lessons(day: dt.date, lessons: range, reason: str) -> list[tuple[dt.date, int, str]]:
    return [(day, n, reason) for n in lessons]


def _days(first: dt.date, n_days: int, lessons: range, reason: str) -> list[tuple[dt.date, int, str]]:
    return [x for k in range(n_days) for x in _lessons(first + dt.timedelta(days=k), lessons, reason)]


# Vendor A: one row per missed lesson: (year, inst, learner) -> [(date, lesson no, S|C|N)]
ABSENCES_A = {
    (2022, I1, "P03"): _days(D(2022, 10, 10), 2, range(1, 7), "S"),                          # 12 illness
    (2022, I1, "P04"): _lessons(D(2022, 11, 3), range(1, 3), "N"),                            # 2 unexcused
    (2022, I1, "P08"): _days(D(2022, 11, 7), 5, range(1, 6), "N")                             # 25 unexc. S1
                       + _days(D(2023, 2, 6), 6, range(1, 6), "S"),                           # + 30 illness
    (2022, I1, "P09"): _days(D(2023, 1, 16), 2, range(1, 6), "C"),                            # 10 other
    (2022, I3, "P18"): _days(D(2023, 2, 6), 5, range(1, 5), "N") + _lessons(D(2023, 2, 13), range(1, 2), "N"),  # 21 unexc. S2
    (2022, I3, "P20"): _lessons(D(2022, 12, 1), range(1, 6), "S"),                            # 5 illness
    (2022, I3, "P16"): _lessons(D(2023, 4, 3), range(1, 4), "C"),                             # 3 other
    (2023, I1, "P02"): _lessons(D(2023, 10, 5), range(1, 7), "N"),                            # 6 unexcused
    (2023, I1, "P08"): _lessons(D(2023, 11, 6), range(1, 7), "S") + _lessons(D(2023, 11, 7), range(1, 6), "S"),  # 11
    (2023, I1, "P21"): _lessons(D(2024, 2, 1), range(1, 5), "C"),                             # 4 other
    (2023, I3, "P19"): _days(D(2023, 10, 2), 5, range(1, 6), "S") + _days(D(2023, 10, 9), 5, range(1, 6), "S"),  # 50
    (2023, I3, "P13"): _days(D(2024, 3, 4), 5, range(1, 5), "N"),                             # 20 unexc. S2
}
# Vendor B: one row per pupil, day and reason: (year, inst, learner, date, lessons missed, reason)
ATTENDANCE_B = [
    (2022, I2, "P10", D(2022, 12, 5), 6, "sick"), (2022, I2, "P10", D(2022, 12, 6), 6, "sick"),   # 12 illness
    (2022, I2, "P12", D(2023, 3, 1), 5, "unexcused"), (2022, I2, "P12", D(2023, 3, 2), 4, "excused"),
    (2022, I2, "P14", D(2022, 10, 20), 6, "unexcused"),
    (2023, I2, "P02", D(2024, 2, 5), 6, "sick"),
    (2023, I2, "P22", D(2023, 9, 12), 6, "unexcused"), (2023, I2, "P22", D(2023, 12, 1), 6, "unexcused"),
    (2023, I2, "P22", D(2023, 12, 4), 6, "unexcused"), (2023, I2, "P22", D(2023, 12, 5), 3, "unexcused"),  # 21 S1
    (2023, I2, "P10", D(2024, 3, 1), 5, "excused"),
]


def _planned() -> list[tuple[int, str, str, str, int]]:
    """Planned lessons: every pupil 50 in October + 50 in February (100 a year), except P14 (left in February:
    October only) and P02 in 2023 (October at I1, February at I2)."""
    rows = []
    pupils = sorted({(y, pe, i) for (y, pe, i, _p, grade, _c, _l, _s, _e, _r) in ENROLMENTS if grade is not None})
    for (y, person, inst) in pupils:  # one learner-year per institution, however many spells
        months = [f"{y}-10", f"{y + 1}-02"]
        if person == "P14":
            months = [f"{y}-10"]
        if person == "P02" and y == 2023:
            months = [f"{y}-10"] if inst == I1 else [f"{y + 1}-02"]
        rows += [(y, inst, person, m, 50) for m in months]
    return rows


# Exams of school year t (taken in May t+1): (year, learner, institution, exam, score %)
EXAMS = [
    (2022, "P04", I1, "MAT9", 80.0), (2022, "P04", I1, "LVA9", 70.0),
    (2022, "P05", I1, "MAT9", 9.0), (2022, "P05", I1, "LVA9", 50.0),
    (2022, "P06", I1, "MAT12", 55.5), (2022, "P07", I1, "MAT12", 15.0),
    (2022, "P13", I2, "MAT9", 60.0), (2022, "P13", I2, "LVA9", 10.0),    # exactly at the threshold: not below
    (2022, "P25", I3, "MAT9", 40.0),
    (2022, "P20", I3, "MAT12", 19.9), (2022, "P20", I3, "LVA12", 62.0),
    (2023, "P19", I3, "MAT12", 72.0), (2023, "P19", I3, "LVA12", 18.0),
]

# Staff posts: (year, person, sex, birth year, institution, post, subject, FTE, qualification, start, end)
STAFF = [
    (2022, "T01", "S", 1965, I1, "PEDAGOGS", "MAT", 0.5, "ATBILST", None, None),
    (2022, "T01", "S", 1965, I1, "PEDAGOGS", "FIZ", 0.25, "NEATBILST", None, None),
    (2022, "T01", "S", 1965, I2, "PEDAGOGS", "MAT", 0.5, "ATBILST", None, None),
    (2022, "T02", "V", 1995, I1, "PEDAGOGS", "LAT", 1.0, "NEATBILST", None, None),
    (2022, "T03", "S", 1980, I1, "PEDAGOGS", "ANG", 1.0, "ATBILST", None, D(2023, 6, 30)),
    (2022, "T04", "S", 1972, I2, "PEDAGOGS", "LAT", 1.2, "ATBILST", None, None),
    (2022, "T05", "V", 1960, I3, "PEDAGOGS", "MAT", 1.0, "ATBILST", None, None),
    (2022, "T06", "S", 1993, I3, "PEDAGOGS", "LAT", 0.8, "APGUST", None, None),
    (2022, "T07", "S", 1970, I1, "DIREKTORS", None, 1.0, "ATBILST", None, None),
    (2022, "T08", "S", 1985, I1, "PIRMSSKOLAS_SKOLOTAJS", None, 1.0, "ATBILST", None, None),
    (2022, "T09", "V", 1990, I3, "PEDAGOGS", "SPO", 0.5, "ATBILST", D(2022, 10, 1), None),  # after ref date
    (2023, "T01", "S", 1965, I1, "PEDAGOGS", "MAT", 0.5, "ATBILST", None, None),
    (2023, "T01", "S", 1965, I1, "PEDAGOGS", "FIZ", 0.25, "NEATBILST", None, None),
    (2023, "T01", "S", 1965, I2, "PEDAGOGS", "MAT", 0.5, "ATBILST", None, None),
    (2023, "T02", "V", 1995, I1, "PEDAGOGS", "LAT", 1.0, "ATBILST", None, None),
    (2023, "T04", "S", 1972, I2, "PEDAGOGS", "LAT", 1.2, "ATBILST", None, None),
    (2023, "T05", "V", 1960, I3, "PEDAGOGS", "MAT", 1.0, "ATBILST", None, None),
    (2023, "T06", "S", 1993, I3, "PEDAGOGS", "LAT", 0.8, "APGUST", None, None),
    (2023, "T09", "V", 1990, I3, "PEDAGOGS", "SPO", 0.5, "ATBILST", None, None),
    (2023, "T10", "S", 1998, I1, "PEDAGOGS", "ANG", 1.0, "ATBILST", None, None),
    (2023, "T07", "S", 1970, I1, "DIREKTORS", None, 1.0, "ATBILST", None, None),
    (2023, "T08", "S", 1985, I1, "PIRMSSKOLAS_SKOLOTAJS", None, 1.0, "ATBILST", None, None),
]
# Academic staff at U: (year, person, sex, birth year, post, degree, FTE, end)
ACADEMIC = [
    (2022, "A01", "V", 1960, "PROFESORS", "DOKTORS", 1.0, None),
    (2022, "A02", "S", 1985, "LEKTORS", "MAGISTRS", 0.5, None),
    (2022, "A03", "S", 1958, "DOCENTS", "DOKTORS", 1.0, D(2023, 6, 30)),
    (2023, "A01", "V", 1960, "PROFESORS", "DOKTORS", 1.0, None),
    (2023, "A02", "S", 1985, "LEKTORS", "MAGISTRS", 0.5, None),
    (2023, "A04", "V", 1990, "ASISTENTS", "MAGISTRS", 1.0, None),
]

# Population on 1 Jan t+1 per single year of age 0..20 and sex: A 10 (2022) / 11 (2023), B 5 / 4; plus
# age 40 (100 people) and 100+ (1 person), outside every age group used.
POPULATION_PER_AGE = {(2022, MUNI_A): 10, (2023, MUNI_A): 11, (2022, MUNI_B): 5, (2023, MUNI_B): 4}

# Graduate outcomes, partition t = graduates of school year t: (year, learner, employed, income, studying, emigrated)
GRADUATES = [
    (2022, "P06", True, 3000.0, True, False),
    (2022, "P07", True, 8400.0, False, False),
    (2022, "P20", False, None, False, False),
    (2023, "P19", True, 9000.0, False, False),
    (2023, "V01", False, None, False, True),
]
# NVA registrations, partition t: (year, person, registered, deregistered)
NVA = [
    (2022, "P07", D(2023, 7, 10), D(2023, 8, 20)),   # school year 2022: not "one year on" for anyone
    (2023, "P20", D(2023, 10, 2), None),
    (2023, "P09", D(2024, 1, 10), None),             # a dropout, not a graduate
    (2023, "X01", D(2023, 11, 11), None),
]


def _start(y: int, s: dt.date | None) -> dt.date:
    return s or D(y, 9, 1)


def _end(y: int, e: dt.date | None) -> dt.date:
    return e or D(y + 1, 8, 31)


def raw_rows() -> dict[str, list[tuple]]:
    """Every raw table's rows WITHOUT lineage columns, in contract column order."""
    t: dict[str, list[tuple]] = {}
    ts = lambda y: dt.datetime(y + 1, 6, 25, 12, 0)  # noqa: E731  (entry timestamps: irrelevant, fixed)
    t["viis_institutions"] = [
        (reg, v[0], v[1], v[2], v[3], v[4], v[5][y], v[6], ADDRESSES[v[6]][0], D(1990, 9, 1), None, v[7],
         f"{reg}@iestades.example", y)
        for y in YEARS for reg, v in INSTITUTIONS.items()]
    t["viis_programmes"] = [(i, c, n, k, f"V-{i[-2:]}{c[:2]}", D(2010, 1, 1), D(2030, 1, 1), y)
                            for y in YEARS for (i, c, n, k) in PROGRAMMES]
    classes = sorted({(y, i, g, letter, p) for (y, _pe, i, p, g, _c, letter, _s, _e, _r) in ENROLMENTS if letter})
    t["viis_classes"] = [(f"{i}-{y}-{g}{letter}", i, g, letter, p, y) for (y, i, g, letter, p) in classes]
    t["viis_learners"] = [(pid(k), sex, born, homes[y], y)
                          for y in YEARS for k, (sex, born, homes) in LEARNERS.items() if y in homes]
    t["viis_enrolments"] = [
        (pid(pe), i, p, g, c, f"{i}-{y}-{g}{letter}" if letter else None, _start(y, s), _end(y, e), r, y)
        for (y, pe, i, p, g, c, letter, s, e, r) in ENROLMENTS]
    t["viis_staff_posts"] = [
        (pid(pe), sex, by, i, post, subj, fte, q, "MAGISTRS", _start(y, s), _end(y, e), y)
        for (y, pe, sex, by, i, post, subj, fte, q, s, e) in STAFF]
    t["viis_academic_staff"] = [(pid(pe), sex, by, U, post, deg, fte, D(y, 9, 1), _end(y, e), y)
                                for (y, pe, sex, by, post, deg, fte, e) in ACADEMIC]
    with open(SEEDS_DIR / "viis_classifiers.csv", encoding="utf-8") as f:
        cls = [(r["classifier"], r["code"], r["name_lv"], r["name_en"]) for r in csv.DictReader(f)]
    t["viis_classifiers"] = [(*c, y) for y in YEARS for c in cls]
    t["vendor_a_grades"] = [(i, pid(pe), k, s, per, m, ts(y), y) for (y, i, pe, k, s, per, m) in GRADES_A]
    t["vendor_b_grades"] = [(i, pid(pe), k, s, term, m, ts(y), y) for (y, i, pe, k, s, term, m) in GRADES_B]
    t["vendor_a_absences"] = [(i, pid(pe), day, n, reason, ts(y), y)
                              for (y, i, pe), lessons in ABSENCES_A.items() for (day, n, reason) in lessons]
    t["vendor_b_attendance"] = [(i, pid(pe), day, n, reason, ts(y), y) for (y, i, pe, day, n, reason) in ATTENDANCE_B]
    planned = _planned()
    t["vendor_a_planned_lessons"] = [(i, pid(pe), m, n, ts(y), y) for (y, i, pe, m, n) in planned
                                     if INSTITUTIONS[i][7] == "A"]
    t["vendor_b_planned_lessons"] = [(i, pid(pe), m, n, ts(y), y) for (y, i, pe, m, n) in planned
                                     if INSTITUTIONS[i][7] == "B"]
    t["exams_results"] = [(pid(pe), i, ex, "PAMATA" if ex.endswith("9") and not ex.endswith("12") else "OPTIMALAIS",
                           D(y + 1, 5, 15), score, y) for (y, pe, i, ex, score) in EXAMS]
    t["csp_population"] = [
        (f"LV{m}", sex, age, y + 1, n, y)
        for (y, m), per_age in POPULATION_PER_AGE.items() for sex in ("M", "F")
        for age, n in [(f"Y{a}", per_age) for a in range(21)] + [("Y40", 100), ("Y_GE100", 1)]]
    t["csp_graduate_outcomes"] = [(pid(pe), y + 1, emp, inc, st, em, y) for (y, pe, emp, inc, st, em) in GRADUATES]
    t["nva_unemployed"] = [(pid(pe), r, d, "Jelgavas filiāle", y) for (y, pe, r, d) in NVA]
    t["vzd_addresses"] = [(k, text, atvk, None, None, lat, lon, y)
                          for y in YEARS for k, (text, atvk, lat, lon) in ADDRESSES.items()]
    return t


def build_raw(db_path: Path) -> dict[str, int]:
    """Create every contract's raw table (the ingest's own DDL) in a fresh DuckDB file and insert the rows.
    Returns row counts per table. Lineage: _source_file 'hand/<table>', _source_line = 2, 3, ... per table."""
    rows = raw_rows()
    counts = {}
    con = duckdb.connect(str(db_path))
    try:
        for entity in all_entities():
            ensure_tables(con, entity)
            data = rows.get(entity.table, [])
            cols = [n for n, _ in raw_columns(entity)]
            n_data = len(cols) - 3  # without lineage
            full = []
            for line, r in enumerate(data, start=2):
                assert len(r) == n_data + 1, f"{entity.table}: row {r} has {len(r)} values, want {n_data + 1}"
                full.append((*r[:-1], r[-1], f"hand/{entity.table}.csv", line))
            if full:
                ph = ", ".join("?" for _ in cols)
                con.executemany(f'INSERT INTO raw."{entity.table}" VALUES ({ph})', full)
            counts[entity.table] = len(full)
        unknown = set(rows) - set(counts)
        assert not unknown, f"rows for tables the contracts do not have: {unknown}"
    finally:
        con.close()
    return counts
