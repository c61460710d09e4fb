"""Real figures the demo country is calibrated to at scale 1.0 (DESIGN.md §2; school year 2023/24 unless said).

Everything scales linearly with `scale`. The simulation does not force these numbers: they come out of the
cohort dynamics, and the constants below (births, rates) were tuned so that scale 1.0 lands within ~2 %.
"""
from __future__ import annotations

# --- targets (DESIGN.md §2) ---------------------------------------------------------------------------
PUPILS_2023 = 220_000          # grades 1-12 on 1 September 2023
GRADE1_2023 = 21_600
PUPILS_2020 = 215_973          # the real 2020/21 extract (reference/izm_general_schools_2020-21.csv)
PUPILS_2015 = 200_000
GENERAL_SCHOOLS_2023 = 635     # 688 in 2020/21; small schools closed by the reform from 2021 on
TEACHERS_2023 = 26_000         # persons with a PEDAGOGS post in a general school
PRESCHOOL_2023 = 97_000        # ~85 % in pre-school institutions, the rest in groups of schools
VET_LEARNERS_2023 = 27_000     # in ~53 vocational institutions
HE_STUDENTS_2023 = 75_000
ACADEMIC_STAFF_2023 = 5_000

# --- demography: live births per calendar year (CSP, rounded); the cohorts that enter school -----------
BIRTHS = {
    1990: 37_900, 1991: 34_600, 1992: 31_600, 1993: 26_800, 1994: 24_300, 1995: 21_600, 1996: 19_800,
    1997: 18_800, 1998: 18_400, 1999: 19_400, 2000: 20_300, 2001: 19_700, 2002: 20_000, 2003: 21_000,
    2004: 20_300, 2005: 21_500, 2006: 22_300, 2007: 23_300, 2008: 23_900, 2009: 21_700, 2010: 19_200,
    2011: 18_800, 2012: 19_900, 2013: 20_600, 2014: 21_700, 2015: 22_000, 2016: 21_970, 2017: 20_800,
    2018: 19_300, 2019: 18_800, 2020: 17_550, 2021: 17_400, 2022: 15_950, 2023: 14_450, 2024: 13_000,
    2025: 12_500,
}


def cohort_retention(birth_year: int) -> float:
    """Share of a birth cohort still living in Latvia at school age: the 2009-2012 emigration wave took
    ~12 % of the older cohorts; later cohorts lost little (return migration)."""
    if birth_year <= 2004:
        return 0.885
    if birth_year >= 2017:  # pre-school cohorts: return migration and immigrant children
        return 1.03
    if birth_year >= 2010:
        return 1.0
    return 0.885 + (birth_year - 2004) * (1.0 - 0.885) / 6


# --- behaviour ------------------------------------------------------------------------------------------
NEVER_ENROLLED = 0.02          # compulsory-age children not in any school (abroad, home-schooled, missing)
ENTRY_EARLY, ENTRY_LATE = 0.02, 0.04   # grade 1 at age 6 / at age 8 instead of 7
REPEAT_BY_GRADE = {1: 0.015, 2: 0.015, 3: 0.015, 4: 0.012, 5: 0.01, 6: 0.01, 7: 0.012, 8: 0.012, 9: 0.015,
                   10: 0.025, 11: 0.012, 12: 0.01}
DROPOUT_BY_GRADE = {g: 0.002 for g in range(1, 10)} | {10: 0.03, 11: 0.02, 12: 0.012}
TRANSFER_RATE = 0.02
EMIGRATION_RATE = 0.004
DEATH_RATE = 0.0002
AFTER_GRADE9 = {"general": 0.62, "vet": 0.33}      # the rest leave education
AFTER_GRADE12 = {"higher": 0.50, "vet": 0.05}
INITIAL_SECONDARY_SHARE = 0.57  # share of a cohort in grades 10-12 at the start of the simulation
CLASS_SIZE = 30
VENDOR_A_SHARE = 0.55
# general schools closed by the reform: how many (at scale 1.0) close at the end of the year before
SCHOOL_CLOSURES = {2021: 14, 2022: 18, 2023: 21, 2024: 10}

PRESCHOOL_RATE_BY_AGE = {1: 0.80, 2: 0.97, 3: 0.995, 4: 0.995, 5: 0.998, 6: 0.999}  # by age on 1 Sept
PRESCHOOL_IN_SCHOOL = 0.55      # children whose school has pre-school groups attend them (-> ~15 %)

VET_DROPOUT = 0.09
VET_ADULT_ENTRANTS = 2_400      # yearly entrants not coming from grade 9/12 in the simulation
HE_DROPOUT = 0.11
HE_OTHER_ENTRANTS = 21_600      # yearly entrants from older cohorts, abroad, master's students

TEACHER_POSTS = (3.0, 1 / 7.7)  # posts per school = a + b * pupils (PEDAGOGS)
TWO_SCHOOL_SHARE = 0.15
TEACHER_ATTRITION = (0.05, 0.14, 0.30)   # <60, 60-64, 65+
ACADEMIC_PER_STUDENT = 1 / 15
STAFF_FEMALE = 0.88
