"""The numbers are right: every indicator of the catalogue, at every level and unit, on the hand-made country of
hand_country.py, equals a value worked out BY HAND from the definitions in .briefs/DBT.md (not from the SQL).

Notation in the comments: I1, I2 (municipality A = Jelgava 0003000), I3 (B = Ludzas novads 0037000), U (the
university, in A), N = national. A ratio is (numerator, denominator); value = scale × num / den. Flow
indicators (repetition, promotion, dropout, transitions, attrition, graduates' unemployment) exist only in the
outcome year 2023. The build runs once per module: the catalogue generator, then ONE `dbt build` (seeds, models,
dbt unit and data tests); IKMS_HAND_FAST=1 builds seeds and models only.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import set_data_dir
from tests.integration import hand_country as hc
from tests.integration.hand_country import ADDRESSES, H1, H2, H3, H5, H6, I1, I2, I3, U

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt_hand")]

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
# IKMS_HAND_FAST=1: seeds and models only (no dbt unit/data tests): about half the time.
FAST = os.environ.get("IKMS_HAND_FAST", "") not in ("", "0")
DIMS = ("sex", "grade", "subject", "programme_kind", "education_level", "age_group")
UNITS = {"I1": ("institution", I1), "I2": ("institution", I2), "I3": ("institution", I3), "U": ("institution", U),
         "A": ("municipality", hc.MUNI_A), "B": ("municipality", hc.MUNI_B), "N": ("national", "LV")}


class Med:
    """A median indicator's expected value and its number of observations."""

    def __init__(self, value: float, n: int):
        self.value, self.n = value, n

    def __repr__(self):
        return f"Med({self.value}, n={self.n})"


def dist(school: str, home: str) -> float:
    """Great-circle km between two address points (haversine, R = 6371.0088 km), written out independently."""
    (_, _, la1, lo1), (_, _, la2, lo2) = ADDRESSES[school], ADDRESSES[home]
    p1, p2, dp, dl = map(math.radians, (la1, la2, la2 - la1, lo2 - lo1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * hc.R_KM * math.asin(math.sqrt(a))


S1, S2, S3 = "100000001", "100000002", "100000003"  # the schools' address points

# Scale of the value: percent indicators × 100, everything else × 1 (CE_MEAN is a mean percent score: × 1).
PERCENT = {"GER", "ECE_3PLUS", "GIR_G1", "OVERAGE", "REPEAT_RATE", "PROMO_RATE", "DROPOUT_RATE", "TRANS_9_10",
           "TRANS_12_HE", "LOW_ACH_SHARE", "HIGH_ACH_SHARE", "NV_SHARE", "PUPIL_ANY_FAIL", "CE_BELOW_MIN",
           "GRAD_EMP_1Y", "GRAD_UNEMP_1Y", "QUAL_TEACH", "TEACH_50PLUS", "TEACH_UNDER30", "TEACH_FEMALE",
           "TEACH_MULTI", "TEACH_ATTRITION", "ACAD_DOCTOR", "ACAD_60PLUS", "ABS_RATE", "ABS_ILL_RATE",
           "ABS_UNEXC_RATE", "ABS_OTHER_RATE", "CHRONIC_ABS", "SEVERE_ABS", "UNEXC_20", "EWS_RISK", "TRANSFER_RATE",
           "SMALL_SCHOOL_SHARE", "PUPILS_SMALL_SCHOOL", "FAR_SHARE", "OUT_OF_MUNI"}
# aggregation 'distinct' (persons counted once per unit): n_observations = denominator
DISTINCT = {"QUAL_TEACH", "TEACH_50PLUS", "TEACH_UNDER30", "TEACH_FEMALE", "TEACH_MULTI", "TEACH_ATTRITION",
            "ACAD_DOCTOR", "ACAD_60PLUS"}

# EXPECTED[indicator][school year][unit] = count (int) | (numerator, denominator) | Med(value, n)
EXPECTED: dict[str, dict[int, dict[str, object]]] = {
    # ---------------------------------------------------------------- domain 1: enrolment ---------------------
    # 2022 on 1 Sep: I1 9 pupils + K01, K02 pre-school = 11; I2 P10-P15 = 6; I3 P16 P17 P25 P18 P19 P20 + V01 (VET)
    # = 7; U S01 = 1. 2023: I1 P01 P02 P03 P04 P08 K02 P21 + K01 = 8; I2 P10 P11 P12 P15 P22 = 5 (P02 arrives in
    # January); I3 P16 P17 P18 P19 P13 P23 + VET P05 V01 = 8; U S01 P06 = 2.
    "ENR_TOTAL": {2022: {"I1": 11, "I2": 6, "I3": 7, "U": 1, "A": 18, "B": 7, "N": 25},   # A = 11+6+1
                  2023: {"I1": 8, "I2": 5, "I3": 8, "U": 2, "A": 15, "B": 8, "N": 23}},
    "ENR_GENERAL": {2022: {"I1": 9, "I2": 6, "I3": 6, "A": 15, "B": 6, "N": 21},
                    2023: {"I1": 7, "I2": 5, "I3": 6, "A": 12, "B": 6, "N": 18}},
    "ENR_PRESCHOOL": {2022: {"I1": 2, "A": 2, "N": 2},   # K01 (age 4), K02 (age 6)
                      2023: {"I1": 1, "A": 1, "N": 1}},  # K01 (age 5); K02 is in grade 1
    "ENR_VET": {2022: {"I3": 1, "B": 1, "N": 1},         # V01
                2023: {"I3": 2, "B": 2, "N": 2}},        # V01 + P05 (completed grade 9 at I1)
    # GER: grades 1-12 + VET by institution municipality / population aged 7-18 (12 ages x 2 sexes x per-age count:
    # A 10 in 2022, 11 in 2023; B 5, 4). A 2022: 15 / 240 = 6.25 %; B 2022: (6 + V01) / 120 = 5.83 %;
    # A 2023: 12 / 264 = 4.55 %; B 2023: (6 + P05 + V01) / 96 = 8.33 %.
    "GER": {2022: {"A": (15, 240), "B": (7, 120), "N": (22, 360)},
            2023: {"A": (12, 264), "B": (8, 96), "N": (20, 360)}},
    # ECE: pre-school learners aged 3-6 / population 3-6 (4 ages x 2 sexes): A 2022 K01, K02 / 80 = 2.5 %; B 0 / 40
    "ECE_3PLUS": {2022: {"A": (2, 80), "B": (0, 40), "N": (2, 120)},
                  2023: {"A": (1, 88), "B": (0, 32), "N": (1, 120)}},
    # GIR: grade 1 on ref(t) without a grade-1 spell in t-1 / population aged 7 (x 2 sexes). 2022 (no 2021 data):
    # P01, P15 | P16. 2023: K02, P21, P22 (P15 repeats grade 1: not new) | P23 -> A 3/22 = 13.6 %, B 1/8 = 12.5 %
    "GIR_G1": {2022: {"A": (2, 20), "B": (1, 10), "N": (3, 30)},
               2023: {"A": (3, 22), "B": (1, 8), "N": (4, 30)}},
    # over-age = age >= grade + 8: 2022 P08 (grade 7, age 15: exactly the bound) at I1, P20 (grade 12, age 20) at
    # I3 (P03, grade 5 at 12, is one year over: not counted). 2023: P08 (grade 8, 16).
    "OVERAGE": {2022: {"I1": (1, 9), "I2": (0, 6), "I3": (1, 6), "A": (1, 15), "B": (1, 6), "N": (2, 21)},
                2023: {"I1": (1, 7), "I2": (0, 5), "I3": (0, 6), "A": (1, 12), "B": (0, 6), "N": (1, 18)}},
    # ---------------------------------------------------------------- domain 1: flows (outcome year 2023) -----
    # transitions = pupils on ref(2022) by origin institution: I1 P01-P09 (9), I2 P10-P15 (6), I3 P16-P20 + P25 (6)
    "REPEAT_RATE": {2023: {"I1": (0, 9), "I2": (1, 6), "I3": (0, 6),   # P15 grade 1 -> 1
                           "A": (1, 15), "B": (0, 6), "N": (1, 21)}},
    # origin grades 1-11 except 9: I1 P01 P02 P03 P08 P09 (P09 drops out) 4/5 = 80 %; I2 P10 P11 P12 P15 (P15
    # repeats) 3/4 = 75 %; I3 P16 P17 P18 P19 4/4. A = 7/9 = 77.8 % (mean of 80 and 75 would be 77.5).
    "PROMO_RATE": {2023: {"I1": (4, 5), "I2": (3, 4), "I3": (4, 4), "A": (7, 9), "B": (4, 4), "N": (11, 13)}},
    # dropout: not enrolled on ref(2023), no completion, left not for abroad/death: only P09 (P14 IZBRAUCIS, P07
    # P20 P25 completed). I1 1/9 = 11.1 %, I2 0/6, A 1/15 = 6.67 % (NOT the mean 5.56 %: asserted below).
    "DROPOUT_RATE": {2023: {"I1": (1, 9), "I2": (0, 6), "I3": (0, 6), "A": (1, 15), "B": (0, 6), "N": (1, 21)}},
    # grade-9 completers by completion institution: I1 P04 (-> grade 10), P05 (-> VET) 2/2; I2 P13 (-> grade 10
    # at I3) 1/1; I3 P25 (-> nothing) 0/1.
    "TRANS_9_10": {2023: {"I1": (2, 2), "I2": (1, 1), "I3": (0, 1), "A": (3, 3), "B": (0, 1), "N": (3, 4)}},
    # grade-12 completers: I1 P06 (-> bachelor at U), P07 (-> nothing) 1/2; I3 P20 (-> nothing) 0/1
    "TRANS_12_HE": {2023: {"I1": (1, 2), "I3": (0, 1), "A": (1, 2), "B": (0, 1), "N": (1, 3)}},
    # ---------------------------------------------------------------- domain 1: marks (YEAR, grades 4-12) -----
    # 2022 numeric: I1 P03 7 8, P04 9 10, P05 6 (+nv), P06 5 6 (+i), P07 3 7, P08 4 5 -> 11 marks, sum 70;
    # I2 P11 8 9, P12 2 (+NA=nv), P13 6 7 (+PASS=i) -> 5, sum 32; I3 P17 10 9, P18 5 4, P19 8 8, P20 1 (+nv),
    # P25 6 7 -> 9, sum 58. Ignored: grade 2-3 level marks, semester/term marks, P09 (semester only).
    # 2023 numeric: I1 P03 6 7, P04 8 9, P08 3 (+nv) -> 5, sum 33; I2 P11 7 7, P12 4 5, P02 10 8 -> 6, sum 41;
    # I3 P17 9 9, P18 2 3, P19 7 6, P13 5 (+nv) -> 7, sum 41.
    "AVG_GRADE": {2022: {"I1": (70, 11), "I2": (32, 5), "I3": (58, 9),   # I1 6.364, I2 6.4
                         "A": (102, 16), "B": (58, 9), "N": (160, 25)},  # A 6.375 (mean of I1, I2 = 6.382)
                  2023: {"I1": (33, 5), "I2": (41, 6), "I3": (41, 7), "A": (74, 11), "B": (41, 7), "N": (115, 18)}},
    "LOW_ACH_SHARE": {2022: {"I1": (1, 11), "I2": (1, 5), "I3": (1, 9), "A": (2, 16), "B": (1, 9), "N": (3, 25)},
                      2023: {"I1": (1, 5), "I2": (0, 6), "I3": (2, 7), "A": (1, 11), "B": (2, 7), "N": (3, 18)}},
    "HIGH_ACH_SHARE": {2022: {"I1": (2, 11), "I2": (1, 5), "I3": (2, 9), "A": (3, 16), "B": (2, 9), "N": (5, 25)},
                       2023: {"I1": (1, 5), "I2": (1, 6), "I3": (2, 7), "A": (2, 11), "B": (2, 7), "N": (4, 18)}},
    # all YEAR marks (numeric + nv + i): 2022 I1 11+2, I2 5+2, I3 9+1; 2023 I1 5+1, I2 6, I3 7+1
    "NV_SHARE": {2022: {"I1": (1, 13), "I2": (1, 7), "I3": (1, 10), "A": (2, 20), "B": (1, 10), "N": (3, 30)},
                 2023: {"I1": (1, 6), "I2": (0, 6), "I3": (1, 8), "A": (1, 12), "B": (1, 8), "N": (2, 20)}},
    # pupils (grades 4-12) with >= 1 year mark; failing = a numeric mark <= 3 or an nv. 2022: I1 P05 (nv), P07 (3)
    # of 6; I2 P12 of 3; I3 P20 of 5. 2023: I1 P08 of 3 (P02's I1 row has no year marks); I2 0 of 3 (P11 P12 P02);
    # I3 P18, P13 of 4.
    "PUPIL_ANY_FAIL": {2022: {"I1": (2, 6), "I2": (1, 3), "I3": (1, 5), "A": (3, 9), "B": (1, 5), "N": (4, 14)},
                       2023: {"I1": (1, 3), "I2": (0, 3), "I3": (2, 4), "A": (1, 6), "B": (2, 4), "N": (3, 10)}},
    # medians: 2022 I1 3 4 5 5 6 6 7 7 8 9 10 -> 6; I2 2 6 7 8 9 -> 7; I3 1 4 5 6 7 8 8 9 10 -> 7;
    # A (16 marks) 8th, 9th = 6, 7 -> 6.5; N (25) 13th = 7. 2023 I1 3 6 7 8 9 -> 7; I2 4 5 7 7 8 10 -> 7;
    # I3 2 3 5 6 7 9 9 -> 6; A 3 4 5 6 7 7 7 8 8 9 10 -> 7; N (18) 9th, 10th = 7, 7.
    "MEDIAN_GRADE": {2022: {"I1": Med(6, 11), "I2": Med(7, 5), "I3": Med(7, 9),
                            "A": Med(6.5, 16), "B": Med(7, 9), "N": Med(7, 25)},
                     2023: {"I1": Med(7, 5), "I2": Med(7, 6), "I3": Med(6, 7),
                            "A": Med(7, 11), "B": Med(6, 7), "N": Med(7, 18)}},
    # ---------------------------------------------------------------- domain 1: exams, graduates -------------
    # 2022: I1 80 70 9 50 55.5 15 (sum 279.5; below: MAT9 9 < 10, MAT12 15 < 20); I2 60 10 (10 = threshold: not
    # below); I3 40 19.9 62 (19.9 < 20). 2023: I3 P19 72, 18 (< 20).
    "CE_MEAN": {2022: {"I1": (279.5, 6), "I2": (70, 2), "I3": (121.9, 3),  # I1 46.58, I2 35
                       "A": (349.5, 8), "B": (121.9, 3), "N": (471.4, 11)},  # A 43.69 (mean of I1, I2 40.79)
                2023: {"I3": (90, 2), "B": (90, 2), "N": (90, 2)}},
    "CE_BELOW_MIN": {2022: {"I1": (2, 6), "I2": (0, 2), "I3": (1, 3), "A": (2, 8), "B": (1, 3), "N": (3, 11)},
                     2023: {"I3": (1, 2), "B": (1, 2), "N": (1, 2)}},
    # employed / graduates neither studying nor emigrated: 2022 I1 P07 1/1 (P06 studies), I3 P20 0/1;
    # 2023 I3 P19 1/1 (V01 emigrated)
    "GRAD_EMP_1Y": {2022: {"I1": (1, 1), "I3": (0, 1), "A": (1, 1), "B": (0, 1), "N": (1, 2)},
                    2023: {"I3": (1, 1), "B": (1, 1), "N": (1, 1)}},
    # median income of employed graduates: 2022 P06 3000, P07 8400 -> 5700; 2023 P19 9000
    "GRAD_WAGE_1Y": {2022: {"I1": Med(5700, 2), "A": Med(5700, 2), "N": Med(5700, 2)},
                     2023: {"I3": Med(9000, 1), "B": Med(9000, 1), "N": Med(9000, 1)}},
    # graduates of 2022 registered at NVA in school year 2023: P20 only (P07's registration was in 2022/23;
    # P09 is not a graduate). I1 0/2 (P06, P07), I3 1/1.
    "GRAD_UNEMP_1Y": {2023: {"I1": (0, 2), "I3": (1, 1), "A": (0, 2), "B": (1, 1), "N": (1, 3)}},
    # ---------------------------------------------------------------- domain 2: teachers ----------------------
    # teaching posts on ref(t). 2022: I1 T01 (F 57, 0.5 qualified + 0.25 not -> 0.75, qualified), T02 (M 27, not),
    # T03 (F 42, qual.); I2 T01 (0.5), T04 (F 50, 1.2, qual.); I3 T05 (M 62, 1.0, qual.), T06 (F 29, 0.8,
    # acquiring); T09 starts 1 Oct: not on ref. A counts T01 once: 4 persons. 2023: T03 gone, T02 qualified,
    # T10 (F 25, I1, 1.0, qual.), T09 (M 33, I3, 0.5, qual.); ages +1 (T06 30: no longer under 30).
    "QUAL_TEACH": {2022: {"I1": (2, 3), "I2": (2, 2), "I3": (1, 2), "A": (3, 4), "B": (1, 2), "N": (4, 6)},
                   2023: {"I1": (3, 3), "I2": (2, 2), "I3": (2, 3), "A": (4, 4), "B": (2, 3), "N": (6, 7)}},
    "TEACH_50PLUS": {2022: {"I1": (1, 3), "I2": (2, 2), "I3": (1, 2), "A": (2, 4), "B": (1, 2), "N": (3, 6)},
                     2023: {"I1": (1, 3), "I2": (2, 2), "I3": (1, 3), "A": (2, 4), "B": (1, 3), "N": (3, 7)}},
    "TEACH_UNDER30": {2022: {"I1": (1, 3), "I2": (0, 2), "I3": (1, 2), "A": (1, 4), "B": (1, 2), "N": (2, 6)},
                      2023: {"I1": (2, 3), "I2": (0, 2), "I3": (0, 3), "A": (2, 4), "B": (0, 3), "N": (2, 7)}},
    "TEACH_FEMALE": {2022: {"I1": (2, 3), "I2": (2, 2), "I3": (1, 2), "A": (3, 4), "B": (1, 2), "N": (4, 6)},
                     2023: {"I1": (2, 3), "I2": (2, 2), "I3": (1, 3), "A": (3, 4), "B": (1, 3), "N": (4, 7)}},
    "TEACH_MULTI": {2022: {"I1": (1, 3), "I2": (1, 2), "I3": (0, 2), "A": (1, 4), "B": (0, 2), "N": (1, 6)},
                    2023: {"I1": (1, 3), "I2": (1, 2), "I3": (0, 3), "A": (1, 4), "B": (0, 3), "N": (1, 7)}},
    # teachers of ref(2022) not teaching anywhere on ref(2023): T03. A 1/4 = 25 % (mean of I1, I2 = 16.7 %)
    "TEACH_ATTRITION": {2023: {"I1": (1, 3), "I2": (0, 2), "I3": (0, 2), "A": (1, 4), "B": (0, 2), "N": (1, 6)}},
    # sum FTE / (teacher, institution) rows: 2022 I1 0.75+1+1, I2 0.5+1.2, I3 1+0.8; 2023 I3 1+0.8+0.5
    "FTE_PER_TEACH": {2022: {"I1": (2.75, 3), "I2": (1.7, 2), "I3": (1.8, 2), "A": (4.45, 5), "B": (1.8, 2),
                             "N": (6.25, 7)},
                      2023: {"I1": (2.75, 3), "I2": (1.7, 2), "I3": (2.3, 3), "A": (4.45, 5), "B": (2.3, 3),
                             "N": (6.75, 8)}},
    # academic staff at U: 2022 A01 (62, dr), A02 (37), A03 (64, dr); 2023 A01 (63, dr), A02 (38), A04 (33)
    "ACAD_DOCTOR": {2022: {"U": (2, 3), "A": (2, 3), "N": (2, 3)}, 2023: {"U": (1, 3), "A": (1, 3), "N": (1, 3)}},
    "ACAD_60PLUS": {2022: {"U": (2, 3), "A": (2, 3), "N": (2, 3)}, 2023: {"U": (1, 3), "A": (1, 3), "N": (1, 3)}},
    # ---------------------------------------------------------------- domain 3: absences ----------------------
    # planned: 100 a pupil-year (P14 50; P02 2023: 50 at I1 + 50 at I2, two rows). 2022 I1 9 rows 900, I2 550,
    # I3 600; 2023 I1 7 rows 650, I2 6 rows 550, I3 600. Missed 2022: I1 P03 12 ill, P04 2 unexc, P08 25 unexc
    # (Sep-Dec) + 30 ill, P09 10 other = 79; I2 P10 12 ill, P12 5 unexc + 4 other, P14 6 unexc = 27; I3 P18 21
    # unexc (Jan-Aug), P20 5 ill, P16 3 other = 29. 2023: I1 P02 6 unexc, P08 11 ill, P21 4 other = 21;
    # I2 P02 6 ill, P22 21 unexc (Sep-Dec), P10 5 other = 32; I3 P19 50 ill, P13 20 unexc (Jan-Aug) = 70.
    "ABS_RATE": {2022: {"I1": (79, 900), "I2": (27, 550), "I3": (29, 600), "A": (106, 1450), "B": (29, 600),
                        "N": (135, 2050)},
                 2023: {"I1": (21, 650), "I2": (32, 550), "I3": (70, 600), "A": (53, 1200), "B": (70, 600),
                        "N": (123, 1800)}},
    "ABS_ILL_RATE": {2022: {"I1": (42, 900), "I2": (12, 550), "I3": (5, 600), "A": (54, 1450), "B": (5, 600),
                            "N": (59, 2050)},
                     2023: {"I1": (11, 650), "I2": (6, 550), "I3": (50, 600), "A": (17, 1200), "B": (50, 600),
                            "N": (67, 1800)}},
    "ABS_UNEXC_RATE": {2022: {"I1": (27, 900), "I2": (11, 550), "I3": (21, 600), "A": (38, 1450), "B": (21, 600),
                              "N": (59, 2050)},
                       2023: {"I1": (6, 650), "I2": (21, 550), "I3": (20, 600), "A": (27, 1200), "B": (20, 600),
                              "N": (47, 1800)}},
    "ABS_OTHER_RATE": {2022: {"I1": (10, 900), "I2": (4, 550), "I3": (3, 600), "A": (14, 1450), "B": (3, 600),
                              "N": (17, 2050)},
                       2023: {"I1": (4, 650), "I2": (5, 550), "I3": (0, 600), "A": (9, 1200), "B": (0, 600),
                              "N": (9, 1800)}},
    "ABS_PER_PUPIL": {2022: {"I1": (79, 9), "I2": (27, 6), "I3": (29, 6), "A": (106, 15), "B": (29, 6),
                             "N": (135, 21)},
                      2023: {"I1": (21, 7), "I2": (32, 6), "I3": (70, 6), "A": (53, 13), "B": (70, 6),
                             "N": (123, 19)}},
    # >= 10 % of planned: 2022 I1 P03, P08, P09 (10/100: the bound); I2 P10, P14 (6/50); I3 P18.
    # 2023 I1 P02 (6/50), P08; I2 P02 (6/50), P22; I3 P19, P13 (P21 4, P10 5: no)
    "CHRONIC_ABS": {2022: {"I1": (3, 9), "I2": (2, 6), "I3": (1, 6), "A": (5, 15), "B": (1, 6), "N": (6, 21)},
                    2023: {"I1": (2, 7), "I2": (2, 6), "I3": (2, 6), "A": (4, 13), "B": (2, 6), "N": (6, 19)}},
    # >= 50 %: 2022 P08 (55); 2023 P19 (50: the bound)
    "SEVERE_ABS": {2022: {"I1": (1, 9), "I2": (0, 6), "I3": (0, 6), "A": (1, 15), "B": (0, 6), "N": (1, 21)},
                   2023: {"I1": (0, 7), "I2": (0, 6), "I3": (1, 6), "A": (0, 13), "B": (1, 6), "N": (1, 19)}},
    # > 20 unexcused in a semester: 2022 P08 (25 Sep-Dec), P18 (21 Jan-Aug); 2023 P22 (21 Sep-Dec); P13 has 20
    "UNEXC_20": {2022: {"I1": (1, 9), "I2": (0, 6), "I3": (1, 6), "A": (1, 15), "B": (1, 6), "N": (2, 21)},
                 2023: {"I1": (0, 7), "I2": (1, 6), "I3": (0, 6), "A": (1, 13), "B": (0, 6), "N": (1, 19)}},
    # missed > 20 % or a numeric year mark <= 3: 2022 I1 P08 (55 %), P07 (3); I2 P12 (2); I3 P18 (21 %), P20 (1).
    # 2023 I1 P08 (3); I2 P22 (21 %); I3 P19 (50 %), P18 (2, 3). (nv is not a fail; P13's 20 % is not > 20 %.)
    "EWS_RISK": {2022: {"I1": (2, 9), "I2": (1, 6), "I3": (2, 6), "A": (3, 15), "B": (2, 6), "N": (5, 21)},
                 2023: {"I1": (1, 7), "I2": (1, 6), "I3": (2, 6), "A": (2, 13), "B": (2, 6), "N": (4, 19)}},
    # grade 1-12 spells ending PARCELTS in t / pupils on ref(t): 2023 P02 leaves I1 in January
    "TRANSFER_RATE": {2022: {"I1": (0, 9), "I2": (0, 6), "I3": (0, 6), "A": (0, 15), "B": (0, 6), "N": (0, 21)},
                      2023: {"I1": (1, 7), "I2": (0, 5), "I3": (0, 6), "A": (1, 12), "B": (0, 6), "N": (1, 18)}},
    # ---------------------------------------------------------------- domain 4: governance --------------------
    # pupils / teacher FTE (general schools): FTE as in FTE_PER_TEACH
    "PTR": {2022: {"I1": (9, 2.75), "I2": (6, 1.7), "I3": (6, 1.8), "A": (15, 4.45), "B": (6, 1.8), "N": (21, 6.25)},
            2023: {"I1": (7, 2.75), "I2": (5, 1.7), "I3": (6, 2.3), "A": (12, 4.45), "B": (6, 2.3), "N": (18, 6.75)}},
    # qualified FTE: 2022 I1 T01 0.75 + T03 1 = 1.75, I2 1.7, I3 T05 1.0; 2023 I1 2.75, I2 1.7, I3 T05 1 + T09 0.5
    "PTR_QUAL": {2022: {"I1": (9, 1.75), "I2": (6, 1.7), "I3": (6, 1.0), "A": (15, 3.45), "B": (6, 1.0),
                        "N": (21, 4.45)},
                 2023: {"I1": (7, 2.75), "I2": (5, 1.7), "I3": (6, 1.5), "A": (12, 4.45), "B": (6, 1.5),
                        "N": (18, 5.95)}},
    # pupils with a class / classes: 2022 I1 8 / 6 (P09 has no class; 9a and 12a have two each), I2 6 / 5 (9a: 2),
    # I3 6 / 6; 2023 I1 7 / 6 (1a: K02, P21), I2 5 / 4 (1a: P15, P22), I3 6 / 6
    "CLASS_SIZE": {2022: {"I1": (8, 6), "I2": (6, 5), "I3": (6, 6), "A": (14, 11), "B": (6, 6), "N": (20, 17)},
                   2023: {"I1": (7, 6), "I2": (5, 4), "I3": (6, 6), "A": (12, 10), "B": (6, 6), "N": (18, 16)}},
    "SCHOOL_SIZE": {2022: {"I1": (9, 1), "I2": (6, 1), "I3": (6, 1), "A": (15, 2), "B": (6, 1), "N": (21, 3)},
                    2023: {"I1": (7, 1), "I2": (5, 1), "I3": (6, 1), "A": (12, 2), "B": (6, 1), "N": (18, 3)}},
    "SMALL_SCHOOL_SHARE": {y: {"I1": (1, 1), "I2": (1, 1), "I3": (1, 1), "A": (2, 2), "B": (1, 1), "N": (3, 3)}
                           for y in (2022, 2023)},
    "PUPILS_SMALL_SCHOOL": {2022: {"I1": (9, 9), "I2": (6, 6), "I3": (6, 6), "A": (15, 15), "B": (6, 6),
                                   "N": (21, 21)},
                            2023: {"I1": (7, 7), "I2": (5, 5), "I3": (6, 6), "A": (12, 12), "B": (6, 6),
                                   "N": (18, 18)}},
    # distances (homes on the school's meridian: H1 +0.01°, H2 +0.02°, H4 -0.12° from I1; H3 +0.05°, H7 +0.10°
    # from I2; H5 +0.03°, H6 +0.15°, H8 -0.20° from I3). Unknown homes: P11 (code not in VZD), P12 (none).
    # 2022 I1: H1 x4, H2 x3, H4 x2 -> 5th of 9 = H2; I2: H3 x3, H7 -> H3; I3: H5 x3, H6 x2, H8 -> (H5 + H6) / 2;
    # A (13): 1.11 x4, 2.22 x3, 5.56 x3, 11.1, 13.3 x2 -> 7th = I1-H2; N (19): 10th = I3-H5 (3.34 km).
    # 2023 I1: H1 x4, H2 x2, H4 -> H1; I2: H3 x2, H7 -> H3; I3: H5 x5, H6 -> H5; A (10): 5th, 6th = I1-H2;
    # N (16): 8th, 9th = I3-H5. (P02's I2 row is not on the reference date.)
    "DIST_MEDIAN": {2022: {"I1": Med(dist(S1, H2), 9), "I2": Med(dist(S2, H3), 4),
                           "I3": Med((dist(S3, H5) + dist(S3, H6)) / 2, 6),
                           "A": Med(dist(S1, H2), 13), "B": Med((dist(S3, H5) + dist(S3, H6)) / 2, 6),
                           "N": Med(dist(S3, H5), 19)},
                    2023: {"I1": Med(dist(S1, H1), 7), "I2": Med(dist(S2, H3), 3), "I3": Med(dist(S3, H5), 6),
                           "A": Med(dist(S1, H2), 10), "B": Med(dist(S3, H5), 6), "N": Med(dist(S3, H5), 16)}},
    # > 10 km: H4 (13.3), H7 (11.1), H6 (16.7), H8 (22.2)
    "FAR_SHARE": {2022: {"I1": (2, 9), "I2": (1, 4), "I3": (3, 6), "A": (3, 13), "B": (3, 6), "N": (6, 19)},
                  2023: {"I1": (1, 7), "I2": (1, 3), "I3": (1, 6), "A": (2, 10), "B": (1, 6), "N": (3, 16)}},
    # home municipality (harmonised VZD atvk) differs: H4 Jelgavas novads (P04, P07 at I1), H8 Rēzeknes novads
    # (P20 at I3). I3's own code is 0680200 (pre-2021) in 2022 and 0037201 (a sub-unit) in 2023: both 0037000.
    "OUT_OF_MUNI": {2022: {"I1": (2, 9), "I2": (0, 4), "I3": (1, 6), "A": (2, 13), "B": (1, 6), "N": (3, 19)},
                    2023: {"I1": (1, 7), "I2": (0, 3), "I3": (0, 6), "A": (1, 10), "B": (0, 6), "N": (1, 16)}},
}

# A few cuts by a dimension: (indicator, year, unit, {dimension: value}) -> expected
CUTS = [
    # ENR_GENERAL by sex, N 2022: girls P01 P03 P05 P07 P10 P12 P14 P17 P19 = 9, boys 21 - 9 = 12
    ("ENR_GENERAL", 2022, "N", {"sex": "F"}, 9),
    ("ENR_GENERAL", 2022, "N", {"sex": "M"}, 12),
    ("ENR_GENERAL", 2023, "I2", {"grade": "1"}, 2),                 # P15 (repeating), P22
    # ENR_TOTAL by programme kind, N 2023: pre-school K01; basic I1 6 + I2 5 + I3 3; secondary P04 P18 P19 P13;
    # VET P05 V01; HE S01 P06
    ("ENR_TOTAL", 2023, "N", {"programme_kind": "PIRMSSKOLA"}, 1),
    ("ENR_TOTAL", 2023, "N", {"programme_kind": "PAMATIZGLITIBA"}, 14),
    ("ENR_TOTAL", 2023, "N", {"programme_kind": "VIDEJA"}, 4),
    ("ENR_TOTAL", 2023, "N", {"programme_kind": "PROFESIONALA"}, 2),
    ("ENR_TOTAL", 2023, "A", {"programme_kind": "AUGSTAKA"}, 2),
    ("ENR_PRESCHOOL", 2022, "I1", {"age_group": "<5"}, 1),          # K01 age 4
    ("ENR_PRESCHOOL", 2022, "I1", {"age_group": "5+"}, 1),          # K02 age 6
    # GER: A 2022 primary = P01 P02 P03 | P10 P11 P12 P15 = 7 / (6 ages x 2 x 10); girls P01 P03 P10 P12 / 60;
    # B 2023 lower secondary: no pupil in grades 7-9, population 3 x 2 x 4 = 24 (a population-only row)
    ("GER", 2022, "A", {"education_level": "primary"}, (7, 120)),
    ("GER", 2022, "A", {"education_level": "primary", "sex": "F"}, (4, 60)),
    ("GER", 2023, "B", {"education_level": "lower_secondary"}, (0, 24)),
    ("GER", 2023, "B", {"education_level": "upper_secondary"}, (5, 24)),  # P18 P19 P13 + VET P05 V01
    # AVG_GRADE N 2022 by subject: MAT I1 7 9 6 5 3 4 + I2 8 2 6 + I3 10 5 8 1 6 = 80 / 14; LAT 80 / 11
    ("AVG_GRADE", 2022, "N", {"subject": "MAT"}, (80, 14)),
    ("AVG_GRADE", 2022, "N", {"subject": "LAT"}, (80, 11)),
    ("AVG_GRADE", 2022, "I1", {"grade": "9"}, (25, 3)),             # P04 9 10, P05 6
    ("LOW_ACH_SHARE", 2023, "N", {"grade": "11"}, (2, 2)),          # P18 2, 3
    ("MEDIAN_GRADE", 2022, "I2", {"subject": "MAT"}, Med(6, 3)),    # 8 2 6
    ("REPEAT_RATE", 2023, "N", {"grade": "1"}, (1, 3)),             # P01, P15 (repeats), P16
    ("DROPOUT_RATE", 2023, "N", {"grade": "8"}, (1, 1)),            # P09
    ("CE_MEAN", 2022, "N", {"subject": "MAT9"}, (189, 4)),          # 80 9 60 40
    ("CE_BELOW_MIN", 2022, "N", {"subject": "MAT9"}, (1, 4)),       # 9 < 10
    ("QUAL_TEACH", 2022, "A", {"sex": "F"}, (3, 3)),                # T01 (once), T03, T04
    ("QUAL_TEACH", 2022, "A", {"sex": "M"}, (0, 1)),                # T02
    ("GRAD_WAGE_1Y", 2022, "N", {"programme_kind": "VIDEJA"}, Med(5700, 2)),
    ("CHRONIC_ABS", 2022, "I1", {"grade": "7"}, (1, 1)),            # P08
    ("ABS_RATE", 2023, "I2", {"grade": "4"}, (6, 50)),              # P02 after the transfer
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Raw tables of the hand country -> generator -> `dbt build` (seeds, models, unit and data tests: one parse).
    Yields (warehouse path, dbt build result)."""
    from pipelines.indicators.generator import generate

    data = tmp_path_factory.mktemp("hand_country")
    old = os.environ.get("IKMS_DATA_DIR")
    set_data_dir(data)
    try:
        hc.build_raw(data / "warehouse.duckdb")
        generate()
        env = {**os.environ, "IKMS_DATA_DIR": str(data), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        args = [str(DBT), "build", "--profiles-dir", ".", "--target-path", str(data / "target"),
                "--log-path", str(data / "logs")]
        if FAST:
            args += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        started = time.perf_counter()
        build = subprocess.run(args, cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
        (data / "dbt_build.log").write_text(build.stdout + build.stderr, encoding="utf-8")
        print(f"dbt build: {time.perf_counter() - started:.1f}s (log {data / 'dbt_build.log'})")
        yield data / "warehouse.duckdb", build
    finally:
        if old is None:
            os.environ.pop("IKMS_DATA_DIR", None)
        else:
            os.environ["IKMS_DATA_DIR"] = old


@pytest.fixture(scope="module")
def values(warehouse):
    """indicator_values as {(id, level, unit_code, year, dimension values): (num, den, value, n_obs)} and the
    catalogue as {id: (scale, dimensions)}."""
    path, build = warehouse
    if not path.exists() or "indicator_values" not in build.stdout:
        pytest.fail(f"the build did not produce indicator_values:\n{build.stdout[-3000:]}{build.stderr[-2000:]}")
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            f"SELECT indicator_id, level, unit_code, school_year, {', '.join(DIMS)}, numerator, denominator, value, "
            "n_observations FROM indicators.indicator_values").fetchall()
        catalogue = {i: (scale, set(filter(None, (dims or "").split(","))))
                     for i, scale, dims in con.execute(
                         "SELECT indicator_id, scale, dimensions FROM indicators.indicator_catalogue").fetchall()}
    return {(r[0], r[1], r[2], r[3], r[4:10]): r[10:] for r in rows}, catalogue


def _key(catalogue: dict, ind: str, year: int, unit: str, cut: dict | None = None) -> tuple:
    """The row key; dimensions not cut are at their total: '_T' if the indicator has the dimension, else '_Z'."""
    level, code = UNITS[unit]
    used = catalogue[ind][1]
    cut = cut or {}
    return ind, level, code, year, tuple(cut.get(d, "_T" if d in used else "_Z") for d in DIMS)


def _check(ind: str, where: str, got, want) -> list[str]:
    """Compare one row (numerator, denominator, value, n_observations) with the hand value; returns problems."""
    if got is None:
        return [f"{ind} {where}: missing row, want {want}"]
    num, den, val, n_obs = got
    scale = 100.0 if ind in PERCENT else 1.0
    if isinstance(want, Med):
        exp = (None, None, pytest.approx(want.value, rel=1e-9), want.n)
    elif isinstance(want, tuple):
        n, d = want
        v = scale * n / d if d else None
        exp = (pytest.approx(n, rel=1e-9), pytest.approx(d, rel=1e-9),
               None if v is None else pytest.approx(v, rel=1e-9), d if ind in DISTINCT else None)
    else:
        exp = (pytest.approx(want), None, pytest.approx(want), None)
    if (num, den, val, n_obs) != exp:
        return [f"{ind} {where}: got num={num} den={den} value={val} n={n_obs}, want {want} "
                f"(value {exp[2]})"]
    return []


def test_dbt_build_passes(warehouse):
    """Every model, unit test and data test of the project passes on the hand country."""
    _, build = warehouse
    if FAST:
        pytest.skip("IKMS_HAND_FAST: dbt tests not run")
    bad = "\n".join(line for line in build.stdout.splitlines() if " FAIL " in line or " ERROR " in line)
    assert build.returncode == 0, f"dbt build failed:\n{bad or build.stdout[-3000:]}"


def test_expected_covers_the_catalogue(values):
    """A new catalogue entry without a hand-computed value fails here; so does a wrong scale."""
    rows, catalogue = values
    assert set(EXPECTED) == set(catalogue)
    assert {k[0] for k in rows} == set(catalogue)
    assert {i: s for i, (s, _) in catalogue.items()} == {i: 100.0 if i in PERCENT else 1.0 for i in catalogue}


def test_every_indicator_every_level_every_unit(values):
    """The total row (every dimension '_T' / '_Z') of every indicator, school year and unit; no other units."""
    rows, catalogue = values
    problems = []
    for ind, years in EXPECTED.items():
        if ind not in catalogue:
            problems.append(f"{ind}: not in the catalogue")
            continue
        want_units = {(y, UNITS[u]) for y, units in years.items() for u in units}
        got_units = {(k[3], (k[1], k[2])) for k in rows if k[0] == ind and all(v in ("_T", "_Z") for v in k[4])}
        if got_units != want_units:
            problems.append(f"{ind}: units (year, (level, code)) extra {sorted(got_units - want_units)}, "
                            f"missing {sorted(want_units - got_units)}")
        for year, units in years.items():
            for unit, want in units.items():
                problems += _check(ind, f"{year} {unit}", rows.get(_key(catalogue, ind, year, unit)), want)
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


def test_dimension_cuts(values):
    rows, catalogue = values
    problems = []
    for ind, year, unit, cut, want in CUTS:
        problems += _check(ind, f"{year} {unit} {cut}", rows.get(_key(catalogue, ind, year, unit, cut)), want)
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


def test_municipality_is_not_the_mean_of_its_institutions(values):
    """Roll-ups sum numerators and denominators: DROPOUT_RATE 2023 in A = (1 + 0) / (9 + 6) = 6.67 %, while the
    mean of I1 (11.1 %) and I2 (0 %) is 5.56 %; PROMO_RATE A = 7/9 = 77.8 % vs mean(80, 75) = 77.5 %;
    QUAL_TEACH 2022 A = 3/4 = 75 % (T01 counted once) vs mean(66.7, 100) = 83.3 %."""
    rows, catalogue = values
    for ind, year, want in (("DROPOUT_RATE", 2023, 100 / 15), ("PROMO_RATE", 2023, 700 / 9),
                            ("QUAL_TEACH", 2022, 75.0)):
        a = rows[_key(catalogue, ind, year, "A")][2]
        i1, i2 = (rows[_key(catalogue, ind, year, u)][2] for u in ("I1", "I2"))
        assert a == pytest.approx(want, rel=1e-9)
        assert abs(a - (i1 + i2) / 2) > 0.1, f"{ind}: municipality {a} equals the mean of its institutions"
