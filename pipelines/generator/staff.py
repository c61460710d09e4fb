"""Staff posts year by year: a post demand per institution (from its learners) is met by the posts that
continue, and the gaps are filled by new hires (younger) or, for teachers of general schools, by teachers of
another school of the same unit taking a second post. Persons age, leave (more at 60+), and their posts end.
One row per post and school-year segment."""
from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.generator import geography, targets
from pipelines.generator.people import Registry
from pipelines.generator.schooling import d

SUBJECTS = ["LAT", "LIT", "MAT", "ANG", "KRV", "VAC", "VES", "SOC", "BIO", "KIM", "FIZ", "GEO", "DAB", "INF",
            "MUZ", "VIZ", "SPO", "TEH"]
SUBJECT_W = np.array([12, 5, 14, 9, 4, 2, 5, 4, 3, 3, 3, 3, 6, 4, 5, 5, 8, 5], dtype=float)
EDUCATION = (["MAGISTRS", "BAKALAURS", "PROF_AUGSTAKA", "DOKTORS"], [0.55, 0.40, 0.04, 0.01])
QUALIFICATION = (["ATBILST", "NEATBILST", "APGUST"], [0.93, 0.03, 0.04])
AKAD = (["PROFESORS", "ASOC_PROFESORS", "DOCENTS", "LEKTORS", "ASISTENTS", "PETNIEKS"],
        [0.12, 0.12, 0.25, 0.30, 0.15, 0.06])


def run(demand: pl.DataFrame, inst_unit: np.ndarray, reg: Registry, years: list[int], rng: np.random.Generator,
        role: str = "staff", second_post_codes: tuple[str, ...] = ("PEDAGOGS",)) -> pl.DataFrame:
    """demand: year, inst (row of institutions), post_code, need, shareable (bool: second posts allowed).
    Returns rows: year, person_key, inst, post_code, subject_code, fte, qualification, education,
    start_date, end_date."""
    T = targets
    y0 = min(years)
    posts = {k: np.empty(0, dtype=t) for k, t in
             (("pk", np.int64), ("inst", np.int64), ("code", object), ("subj", object), ("fte", float), ("qual", object))}
    rows = []
    leave_next = np.empty(0, dtype=np.int64)
    for y in years:
        S, E = d(y, 9, 1), d(y + 1, 8, 31)
        # persons who left at the end of last year, and posts at institutions without demand, end
        gone = np.isin(posts["pk"], leave_next)
        dm = demand.filter(pl.col("year") == y)
        need_key = dm["inst"].to_numpy() * 16 + dm["code_id"].to_numpy()
        code_ids = {c: i for i, c in enumerate(sorted(demand["post_code"].unique().to_list()))}
        pkey = posts["inst"] * 16 + np.array([code_ids.get(c, 15) for c in posts["code"]], dtype=np.int64) if posts["pk"].size else np.empty(0, np.int64)
        gone |= ~np.isin(pkey, need_key)
        posts = {k: v[~gone] for k, v in posts.items()}
        pkey = pkey[~gone]
        # surplus posts (fewer learners) end at random; deficits are filled
        need = dict(zip(need_key.tolist(), dm["need"].to_list()))  # small: institutions x post kinds
        order = np.lexsort((rng.random(pkey.size), pkey))
        ks = pkey[order]
        start = np.r_[0, np.flatnonzero(ks[1:] != ks[:-1]) + 1] if ks.size else np.empty(0, np.int64)
        rank = np.empty(ks.size, dtype=np.int64)
        if ks.size:
            sizes = np.diff(np.r_[start, ks.size])
            rank[order] = np.arange(ks.size) - np.repeat(start, sizes)
        nk = np.array([need.get(k, 0) for k in np.unique(pkey)], dtype=np.int64) if pkey.size else np.empty(0, np.int64)
        uk = np.unique(pkey)
        cap = np.zeros(0)
        if pkey.size:
            cap = (nk * 1.1 + 1).astype(np.int64)[np.searchsorted(uk, pkey)]
            keep = rank < cap
            posts = {k: v[keep] for k, v in posts.items()}
            pkey = pkey[keep]
        have = dict(zip(*np.unique(pkey, return_counts=True))) if pkey.size else {}
        dkeys = need_key
        deficit = np.maximum(dm["need"].to_numpy() - np.array([have.get(k, 0) for k in dkeys.tolist()], dtype=np.int64), 0)
        new_inst = np.repeat(dm["inst"].to_numpy(), deficit)
        new_code = np.repeat(dm["post_code"].to_numpy(), deficit).astype(object)
        share = np.repeat(dm["shareable"].to_numpy(), deficit)
        n_new = new_inst.size
        # some second-post slots find no other school in the unit: ask for a few more than 15/115
        second = share & (rng.random(n_new) < 1.3 * T.TWO_SCHOOL_SHARE / (1 + T.TWO_SCHOOL_SHARE))
        new_pk = np.full(n_new, -1, dtype=np.int64)
        # new persons for the primary posts
        prim = np.flatnonzero(~second)
        first_year = y == y0
        unit = inst_unit[new_inst[prim]]
        pk = reg.adults(prim.size, 25 if first_year else 23, 68 if first_year else 62, S, T.STAFF_FEMALE, role, rng,
                        unit=unit, age_mode=58 if first_year else 38)
        new_pk[prim] = pk
        # second posts: a single-post teacher of another school in the same unit
        sec = np.flatnonzero(second)
        cand_pk = np.concatenate([posts["pk"], new_pk[prim]])
        cand_inst = np.concatenate([posts["inst"], new_inst[prim]])
        cand_share = np.concatenate([np.isin(posts["code"], second_post_codes), share[prim]])
        pk_u, pk_n = np.unique(cand_pk, return_counts=True)
        single = cand_share & np.isin(cand_pk, pk_u[pk_n == 1])
        if sec.size and single.any():
            ch = geography.UnitChooser(inst_unit[cand_inst[single]], np.ones(int(single.sum())))
            pick = ch.choose(inst_unit[new_inst[sec]], rng)
            chosen_pk = cand_pk[single][pick]
            chosen_inst = cand_inst[single][pick]
            _, first_use = np.unique(chosen_pk, return_index=True)
            ok = np.zeros(sec.size, dtype=bool)
            ok[first_use] = True
            ok &= chosen_inst != new_inst[sec]
            new_pk[sec[ok]] = chosen_pk[ok]
        rest = np.flatnonzero(new_pk < 0)
        if rest.size:
            pk2 = reg.adults(rest.size, 23, 62, S, T.STAFF_FEMALE, role, rng, unit=inst_unit[new_inst[rest]], age_mode=38)
            new_pk[rest] = pk2
        # person attributes live in the registry blocks; collect birth dates of new persons
        fte = np.where(second, rng.uniform(0.2, 0.6, n_new), np.clip(rng.normal(1.08, 0.3, n_new), 0.2, 1.6))
        subj = np.where(np.isin(new_code, ("PEDAGOGS",)),
                        np.array(SUBJECTS, dtype=object)[rng.choice(len(SUBJECTS), n_new, p=SUBJECT_W / SUBJECT_W.sum())],
                        None)
        qual = np.array(QUALIFICATION[0], dtype=object)[rng.choice(3, n_new, p=QUALIFICATION[1])]
        posts = {
            "pk": np.concatenate([posts["pk"], new_pk]), "inst": np.concatenate([posts["inst"], new_inst]),
            "code": np.concatenate([posts["code"], new_code]), "subj": np.concatenate([posts["subj"], subj]),
            "fte": np.concatenate([posts["fte"], np.round(fte, 2)]), "qual": np.concatenate([posts["qual"], qual]),
        }
        m = posts["pk"].size
        hired = np.zeros(m, dtype=bool)
        hired[m - n_new:] = True
        # leaving: decided per person by age; a few leave mid-year, the rest after 31 August
        births = reg.birth_of(posts["pk"])
        age = (S - births).astype(np.int64) / 365.25
        pl_ = np.where(age < 60, T.TEACHER_ATTRITION[0], np.where(age < 65, T.TEACHER_ATTRITION[1], T.TEACHER_ATTRITION[2]))
        pl_ = np.where(age >= 72, 1.0, pl_)
        persons, inv = np.unique(posts["pk"], return_inverse=True)
        leave_p = rng.random(persons.size) < np.bincount(inv, weights=pl_, minlength=persons.size) / np.bincount(inv, minlength=persons.size)
        mid = leave_p & (rng.random(persons.size) < 0.25)
        day = S + rng.integers(30, 300, size=persons.size).astype("timedelta64[D]")
        start = np.where(hired & (rng.random(m) < 0.06) & (y > y0), S + rng.integers(5, 120, size=m).astype("timedelta64[D]"), S)
        end = np.where(mid[inv], np.maximum(day[inv], start + 1), E)
        rows.append({"year": np.full(m, y), "pk": posts["pk"], "inst": posts["inst"], "code": posts["code"],
                     "subj": posts["subj"], "fte": posts["fte"], "qual": posts["qual"], "start": start, "end": end})
        leave_next = persons[leave_p]
    cat = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    return pl.DataFrame({
        "year": cat["year"].astype(np.int32), "person_key": cat["pk"], "inst": cat["inst"],
        "post_code": cat["code"].astype(str), "subject_code": pl.Series(cat["subj"].tolist(), dtype=pl.Utf8),
        "fte": cat["fte"], "qualification": cat["qual"].astype(str),
        "start_date": cat["start"], "end_date": cat["end"],
    }).with_columns(pl.col("start_date").cast(pl.Date), pl.col("end_date").cast(pl.Date))
