"""Learners year by year: pre-school, general education (grades 1-12), vocational and higher education.

Whole cohorts move at once (NumPy arrays per school year); no loop over persons or schools. Each school year
yields spell rows (one per school-year segment) that population.py turns into the Country frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.generator import geography, targets
from pipelines.generator.people import Registry

LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
CODE_BASIC, CODE_SPECIAL, CODE_SECONDARY, CODE_PRESCHOOL = "21011111", "21015611", "31011011", "01011111"
CODE_VET4, CODE_VET2, CODE_BACHELOR, CODE_MASTER = "33481011", "35481021", "43310101", "45310101"
SPECIAL_TYPES = ("Speciāl", "Internātskola", "Sociālās korekcijas")


def d(y: int, m: int, day: int) -> np.datetime64:
    return np.datetime64(f"{y:04d}-{m:02d}-{day:02d}")


@dataclass
class Out:
    """Rows collected over the years (lists of dicts of arrays, concatenated at the end)."""
    spells: list = field(default_factory=list)       # general education
    other: list = field(default_factory=list)        # pre-school, VET, HE
    classes: list = field(default_factory=list)
    completions: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)       # (year, what) -> n


class General:
    """General schools as arrays (index = row of the general-school table)."""

    def __init__(self, inst: pl.DataFrame):
        g = inst.filter(pl.col("grade_min").is_not_null())
        self.row = g
        self.reg_nr = g["reg_nr"].to_numpy().astype(str)
        self.unit = g["unit_idx"].to_numpy().astype(np.int64)
        self.gmin = g["grade_min"].to_numpy()
        self.gmax = g["grade_max"].to_numpy()
        self.close = g["close_year"].fill_null(9999).to_numpy()
        self.weight = g["weight"].to_numpy()
        self.has_pre = g["has_preschool"].to_numpy()
        self.lat, self.lon = g["lat"].to_numpy(), g["lon"].to_numpy()
        special = np.zeros(g.height, dtype=bool)
        for t in SPECIAL_TYPES:
            special |= g["type"].str.contains(t).to_numpy()
        self.basic_code = np.where(special, CODE_SPECIAL, CODE_BASIC)

    def offers(self, grade: int, year: int) -> np.ndarray:
        return (self.gmin <= grade) & (grade <= self.gmax) & (self.close > year)

    def national_choice(self, grade: int, year: int, n: int, rng) -> np.ndarray:
        ok = np.flatnonzero(self.offers(grade, year))
        cum = np.cumsum(self.weight[ok])
        return ok[np.searchsorted(cum, rng.random(n) * cum[-1], side="right").clip(0, ok.size - 1)]

    def programme(self, idx: np.ndarray, grade: np.ndarray) -> np.ndarray:
        return np.where(grade >= 10, CODE_SECONDARY, self.basic_code[idx])


def _age_on(birth: np.ndarray, day: np.datetime64) -> np.ndarray:
    return (day - birth).astype(np.int64) / 365.25


def simulate_learners(inst: pl.DataFrame, reg: Registry, years: list[int], scale: float,
                      rng: np.random.Generator) -> Out:
    out = Out()
    sch = General(inst)
    y0, y1 = min(years), max(years)
    T = targets

    # ---- cohorts: every child who is in grades 1-12 at y0 or enters school (or pre-school) later -------
    births, entry, never, grade0, first, pre_u = [], [], [], [], [], []
    for b in range(y0 - 20, y1):  # a loop over birth years
        n = int(round(T.BIRTHS[b] * T.cohort_retention(b) * scale))
        day = d(b, 1, 1) + rng.integers(0, 365, size=n).astype("timedelta64[D]")
        u = rng.random(n)
        e = b + 7 + np.where(u < T.ENTRY_EARLY, -1, np.where(u > 1 - T.ENTRY_LATE, 1, 0))
        births.append(day)
        entry.append(e)
        never.append(rng.random(n) < T.NEVER_ENROLLED)
    birth = np.concatenate(births)
    entry = np.concatenate(entry)
    never = np.concatenate(never)
    n_all = birth.size
    # grade at y0 of those already at school; a few repeated a grade on the way
    g0 = y0 - entry + 1 - (rng.random(n_all) < 0.05 * np.clip(y0 - entry, 0, 12) / 12)
    in_stock = (~never) & (g0 >= 1) & (g0 <= 12)
    upper = in_stock & (g0 >= 10)
    in_stock &= ~upper | (rng.random(n_all) < T.INITIAL_SECONDARY_SHARE)
    future = (~in_stock) & (entry >= y0) & (g0 < 1)  # enters grade 1 at entry (or never)
    keep = in_stock | future
    # VET stock at y0: a share of the cohorts past grade 9 who are not in general grades 10-12
    vet0 = (~never) & (~in_stock) & (g0 >= 10) & (g0 <= 13) & (rng.random(n_all) < 0.62)
    keep |= vet0
    birth, entry, never, g0 = birth[keep], entry[keep], never[keep], g0[keep]
    in_stock, future, vet0 = in_stock[keep], future[keep], vet0[keep]
    n = birth.size
    # first school (grade at y0 for the stock, grade 1 at entry for the rest), then a home near it
    first = np.empty(n, dtype=np.int64)
    for g in range(1, 13):
        m = in_stock & (g0 == g)
        first[m] = sch.national_choice(g, y0, int(m.sum()), rng)
    m = ~in_stock & ~vet0
    for e in np.unique(entry[m]):  # a loop over entry years
        mm = m & (entry == e)
        first[mm] = sch.national_choice(1, min(int(e), y1), int(mm.sum()), rng)
    mm = vet0
    first[mm] = sch.national_choice(9, y0, int(mm.sum()), rng)
    hlat, hlon, hunit = geography.homes_near(sch.lat[first], sch.lon[first], sch.unit[first], rng)
    sex = np.where(rng.random(n) < 0.513, "M", "F")
    pk = reg.add(birth, sex, hlat, hlon, hunit, "learner")
    home_unit = hunit

    _preschool(out, inst, sch, pk, birth, entry, never, first, home_unit, years, rng)

    # ---- general education, year by year -----------------------------------------------------------------
    base = int(pk[0]) if n else 0
    cur_pk = pk[in_stock]
    cur_s = first[in_stock]
    cur_g = g0[in_stock].astype(np.int64)
    cur_rep = np.zeros(cur_pk.size, dtype=bool)
    vet_in: list[tuple] = [(pk[vet0], (g0[vet0] - 9).astype(np.int64), np.full(int(vet0.sum()), 4))]
    he_in: list[np.ndarray] = []
    for y in years:
        S, E = d(y, 9, 1), d(y + 1, 8, 31)
        ent = future & ~never & (entry == y)
        cur_pk = np.concatenate([cur_pk, pk[ent]])
        cur_s = np.concatenate([cur_s, first[ent]])
        cur_g = np.concatenate([cur_g, np.ones(int(ent.sum()), dtype=np.int64)])
        cur_rep = np.concatenate([cur_rep, np.zeros(int(ent.sum()), dtype=bool)])
        # placement: a school that closed or lacks the grade sends the pupil to one in the same unit
        for g in range(1, 13):
            bad = (cur_g == g) & ~sch.offers(g, y)[cur_s]
            if bad.any():
                ok = np.flatnonzero(sch.offers(g, y))
                ch = geography.UnitChooser(sch.unit[ok], sch.weight[ok])
                cur_s[bad] = ok[ch.choose(sch.unit[cur_s[bad]], rng)]
        m = cur_pk.size
        # classes: ceil(n / 30) per school and grade, pupils spread over the letters at random
        key = cur_s * 13 + cur_g
        order = np.lexsort((rng.random(m), key))
        ks = key[order]
        start = np.r_[0, np.flatnonzero(ks[1:] != ks[:-1]) + 1]
        sizes = np.diff(np.r_[start, m])
        rank = np.empty(m, dtype=np.int64)
        rank[order] = np.arange(m) - np.repeat(start, sizes)
        n_cls = np.ceil(np.bincount(key, minlength=(cur_s.max() + 1) * 13 if m else 1) / T.CLASS_SIZE).astype(np.int64)
        letter = rank % n_cls[key]
        gkeys = ks[start]
        gs, gg, gk = gkeys // 13, gkeys % 13, n_cls[gkeys]
        cls_s = np.repeat(gs, gk)
        cls_g = np.repeat(gg, gk)
        cls_l = np.arange(gk.sum()) - np.repeat(np.cumsum(gk) - gk, gk)
        out.classes.append({"year": np.full(cls_s.size, y), "sch": cls_s, "grade": cls_g, "letter": cls_l})
        out.counts[(y, "pupils")] = m
        out.counts[(y, "grade1")] = int((cur_g == 1).sum())
        out.counts[(y, "schools")] = int(np.unique(cur_s).size)
        out.counts[(y, "pupils_by_school")] = (cur_s, cur_g)
        # mid-year events
        u = rng.random(m)
        drop_p = np.array([0] + [T.DROPOUT_BY_GRADE[g] for g in range(1, 13)])[cur_g]
        t1 = T.TRANSFER_RATE
        t2 = t1 + T.EMIGRATION_RATE
        t3 = t2 + T.DEATH_RATE
        transfer = u < t1
        reason = np.full(m, None, dtype=object)
        reason[(u >= t1) & (u < t2)] = "IZBRAUCIS"
        reason[(u >= t2) & (u < t3)] = "MIRIS"
        reason[(u >= t3) & (u < t3 + drop_p)] = "ATSKAITITS_NESEKMIBA"
        day = S + rng.integers(19, 272, size=m).astype("timedelta64[D]")
        # transfers go to another school of the same unit that has a class of the grade this year
        new_s = cur_s.copy()
        for g in range(1, 13):
            tm = np.flatnonzero(transfer & (cur_g == g))
            if tm.size == 0:
                continue
            have = gs[gg == g]
            ch = geography.UnitChooser(sch.unit[have], sch.weight[have])
            pick = have[ch.choose(sch.unit[cur_s[tm]], rng)]
            again = pick == cur_s[tm]
            pick[again] = have[ch.choose(sch.unit[cur_s[tm[again]]], rng)]
            new_s[tm] = pick
        transfer &= new_s != cur_s
        leaver = reason != None  # noqa: E711  (object array)
        # year end: repetition, completion of grades 9 and 12, promotion
        stay = ~leaver
        rep_p = np.array([0] + [T.REPEAT_BY_GRADE[g] for g in range(1, 13)])[cur_g]
        repeat = stay & (rng.random(m) < rep_p)
        complete = stay & ~repeat & ((cur_g == 9) | (cur_g == 12))
        end_reason = np.where(repeat, "ATSTATS", np.where(complete, "PABEIGTS", "PAREJA")).astype(object)
        end_day = np.where(complete & (cur_g == 12), d(y + 1, 6, 20), np.where(complete, d(y + 1, 6, 14), E))
        # spell 1 (the school at 1 September)
        s1_end = np.where(leaver | transfer, day, end_day)
        s1_reason = np.where(leaver, reason, np.where(transfer, "PARCELTS", end_reason))
        s1_letter = letter
        out.spells.append({"year": np.full(m, y), "pk": cur_pk, "sch": cur_s, "grade": cur_g,
                           "letter": s1_letter, "start": np.full(m, S), "end": s1_end, "reason": s1_reason,
                           "repeating": cur_rep})
        # spell 2 (after a transfer): starts the day after or up to a week later, class 'a'
        tr = np.flatnonzero(transfer)
        s2_start = day[tr] + 1 + rng.integers(0, 8, size=tr.size).astype("timedelta64[D]")
        out.spells.append({"year": np.full(tr.size, y), "pk": cur_pk[tr], "sch": new_s[tr], "grade": cur_g[tr],
                           "letter": np.zeros(tr.size, dtype=np.int64), "start": s2_start,
                           "end": end_day[tr], "reason": end_reason[tr], "repeating": cur_rep[tr]})
        fin_s = np.where(transfer, new_s, cur_s)
        cm = np.flatnonzero(complete)
        out.completions.append({"pk": cur_pk[cm], "year": np.full(cm.size, y), "sch": fin_s[cm],
                                "level": np.where(cur_g[cm] == 12, "secondary", "basic"),
                                "code": sch.programme(fin_s[cm], cur_g[cm]), "date": end_day[cm]})
        # routes after completion
        r = rng.random(m)
        c9, c12 = complete & (cur_g == 9), complete & (cur_g == 12)
        to_10 = c9 & (r < T.AFTER_GRADE9["general"])
        to_vet9 = c9 & (r >= T.AFTER_GRADE9["general"]) & (r < T.AFTER_GRADE9["general"] + T.AFTER_GRADE9["vet"])
        to_he = c12 & (r < T.AFTER_GRADE12["higher"])
        to_vet12 = c12 & (r >= T.AFTER_GRADE12["higher"]) & (r < T.AFTER_GRADE12["higher"] + T.AFTER_GRADE12["vet"])
        vet_in.append((cur_pk[to_vet9], np.ones(int(to_vet9.sum()), dtype=np.int64), np.full(int(to_vet9.sum()), 4)))
        vet_in.append((cur_pk[to_vet12], np.ones(int(to_vet12.sum()), dtype=np.int64), np.full(int(to_vet12.sum()), 2)))
        he_in.append(cur_pk[to_he])
        nxt = stay & (~complete | to_10)
        cur_pk, cur_s = cur_pk[nxt], fin_s[nxt]
        cur_g = np.where(repeat, cur_g, cur_g + 1)[nxt]
        cur_rep = repeat[nxt]
    out.vet_in = vet_in
    out.he_in = he_in
    out.home_unit = {"base": base, "unit": home_unit}
    out.schools = sch
    return out


def _preschool(out: Out, inst, sch: General, pk, birth, entry, never, first, home_unit, years, rng):
    """Children aged 1.5-6 on 1 September who are not yet at school; attendance rises with age and, once
    started, continues (one uniform draw per child). A share attend the pre-school group of their school."""
    T = targets
    pre = inst.filter(pl.col("sector") == "preschool")
    ch = geography.UnitChooser(pre["unit_idx"].to_numpy().astype(np.int64), pre["size"].to_numpy())
    n = pk.size
    at_school = sch.has_pre[first] & (rng.random(n) < T.PRESCHOOL_IN_SCHOOL)
    pre_reg = np.where(at_school, sch.reg_nr[first], pre["reg_nr"].to_numpy().astype(str)[ch.choose(home_unit, rng)])
    pu = rng.random(n)
    rates = np.array([0.0] + [T.PRESCHOOL_RATE_BY_AGE[a] for a in range(1, 7)] + [T.PRESCHOOL_RATE_BY_AGE[6]] * 3)
    for y in years:
        S, E = d(y, 9, 1), d(y + 1, 8, 31)
        age = _age_on(birth, S)
        in_school_age = np.where(never, age >= 7, entry <= y)
        ok = (age >= 1.5) & ~in_school_age & (pu < rates[np.clip(age.astype(np.int64), 0, 9)])
        i = np.flatnonzero(ok)
        last = np.where(never[i], age[i] >= 6, entry[i] == y + 1)
        out.other.append({"year": np.full(i.size, y), "pk": pk[i], "reg_nr": pre_reg[i],
                          "code": np.full(i.size, CODE_PRESCHOOL), "course": np.zeros(i.size, dtype=np.int64),
                          "start": np.full(i.size, S), "end": np.full(i.size, E),
                          "reason": np.where(last, "PABEIGTS", "PAREJA").astype(object)})
        out.counts[(y, "preschool")] = int(i.size)
        out.counts[(y, "preschool_in_school")] = int(at_school[i].sum())


def _courses(out: Out, kind: str, insts: pl.DataFrame, entrants: dict, reg_unit, years, dropout: float,
             rng: np.random.Generator):
    """VET or HE: learners advance one course a year; drop out (mid-year) or complete after `length`.
    entrants[y] = (person_key, course, length, unit) arrays of those who start in year y."""
    reg_nrs = insts["reg_nr"].to_numpy().astype(str)
    w = insts["size"].to_numpy() ** (2.0 if kind == "higher" else 1.0)
    units = insts["unit_idx"].to_numpy().astype(np.int64)
    ch = geography.UnitChooser(np.zeros(units.size, dtype=np.int64) if kind == "higher" else units, w)
    cur = {k: np.empty(0, dtype=np.int64) for k in ("pk", "course", "length", "inst")}
    for y in years:
        S, E = d(y, 9, 1), d(y + 1, 8, 31)
        e_pk, e_course, e_len, e_unit = entrants.get(y, (np.empty(0, np.int64),) * 4)
        q = np.zeros(e_unit.size, dtype=np.int64) if kind == "higher" else e_unit.astype(np.int64)
        cur = {"pk": np.concatenate([cur["pk"], e_pk]), "course": np.concatenate([cur["course"], e_course]),
               "length": np.concatenate([cur["length"], e_len]),
               "inst": np.concatenate([cur["inst"], ch.choose(q, rng)])}
        m = cur["pk"].size
        drop = rng.random(m) < dropout
        done = ~drop & (cur["course"] >= cur["length"])
        day = S + rng.integers(19, 272, size=m).astype("timedelta64[D]")
        end = np.where(drop, day, np.where(done, d(y + 1, 6, 20), E))
        reason = np.where(drop, "ATSKAITITS_NESEKMIBA", np.where(done, "PABEIGTS", "PAREJA")).astype(object)
        if kind == "vocational":
            code = np.where(cur["length"] == 4, CODE_VET4, CODE_VET2)
        else:
            code = np.where(cur["length"] == 2, CODE_MASTER, CODE_BACHELOR)
        out.other.append({"year": np.full(m, y), "pk": cur["pk"], "reg_nr": reg_nrs[cur["inst"]], "code": code,
                          "course": cur["course"], "start": np.full(m, S), "end": end, "reason": reason})
        out.counts[(y, kind)] = m
        out.counts[(y, kind + "_by_inst")] = np.bincount(cur["inst"], minlength=units.size)
        dn = np.flatnonzero(done)
        out.completions.append({"pk": cur["pk"][dn], "year": np.full(dn.size, y), "reg_nr": reg_nrs[cur["inst"][dn]],
                                "level": np.full(dn.size, kind if kind == "vocational" else "higher"),
                                "code": code[dn], "date": end[dn]})
        keep = ~drop & ~done
        cur = {k: v[keep] for k, v in cur.items()}
        cur["course"] = cur["course"] + 1


def simulate_tertiary(out: Out, inst: pl.DataFrame, reg: Registry, years: list[int], scale: float,
                      rng: np.random.Generator):
    """Vocational and higher education, fed by the general-education flows plus older entrants."""
    T = targets
    y0 = min(years)
    base, unit_of = out.home_unit["base"], out.home_unit["unit"]

    def unit(pks):
        return unit_of[pks - base]

    vet = inst.filter(pl.col("sector") == "vocational")
    he = inst.filter(pl.col("sector") == "higher")
    # VET entrants: stock at y0, then graduates of grade 9 / 12 of the previous year, then adults
    v_ent: dict = {}
    stock_pk, stock_course, stock_len = out.vet_in[0]
    parts = {y0: [(stock_pk, stock_course, stock_len, unit(stock_pk))]}
    for i, y in enumerate(years[1:]):
        for j in (1 + 2 * i, 2 + 2 * i):
            p, c, l = out.vet_in[j]
            parts.setdefault(y, []).append((p, c, l, unit(p)))
    for y in years:
        n_ad = int(round(T.VET_ADULT_ENTRANTS * scale * (2.0 if y == y0 else 1.0)))
        on = d(y, 9, 1)
        p = reg.adults(n_ad, 18, 45, on, 0.45, "learner", rng, age_mode=20)
        c = np.where(np.arange(n_ad) % 2 == 1, 2, 1) if y == y0 else np.ones(n_ad, dtype=np.int64)
        regf = reg.blocks[-1]
        parts.setdefault(y, []).append((p, c.astype(np.int64), np.full(n_ad, 2), regf["unit"]))
        v_ent[y] = tuple(np.concatenate([x[k] for x in parts[y]]) for k in range(4))
    _courses(out, "vocational", vet, v_ent, None, years, T.VET_DROPOUT, rng)

    # HE: grade-12 graduates of the previous year (bachelor) plus older entrants; a stock at y0
    h_ent: dict = {}
    for i, y in enumerate(years):
        p_list, c_list, l_list = [], [], []
        if i > 0:
            p = out.he_in[i - 1]
            p_list.append(p), c_list.append(np.ones(p.size, np.int64)), l_list.append(np.full(p.size, 4))
        n_other = int(round(T.HE_OTHER_ENTRANTS * scale))
        if i == 0:  # the stock: school-leaver and other entrants of the last four years, thinned by dropout
            for c in (1, 2, 3, 4):
                k = int(round((T.HE_OTHER_ENTRANTS + 6_300) * scale * (1 - T.HE_DROPOUT) ** (c - 1)))
                p = reg.adults(k, 18 + c, 30 + c, d(y, 9, 1), 0.58, "learner", rng, age_mode=18.5 + c)
                ln = np.where(rng.random(k) < 0.3, 2, 4)
                ln = np.maximum(ln, c)
                p_list.append(p), c_list.append(np.full(k, c) if c <= 2 else np.full(k, c)), l_list.append(ln)
        else:
            p = reg.adults(n_other, 19, 45, d(y, 9, 1), 0.58, "learner", rng, age_mode=22)
            p_list.append(p), c_list.append(np.ones(n_other, np.int64))
            l_list.append(np.where(rng.random(n_other) < 0.45, 2, 4))
        pp = np.concatenate(p_list)
        h_ent[y] = (pp, np.concatenate(c_list).astype(np.int64), np.concatenate(l_list).astype(np.int64),
                    np.zeros(pp.size, np.int64))
    _courses(out, "higher", he, h_ent, None, years, T.HE_DROPOUT, rng)
