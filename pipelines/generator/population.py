"""The simulation of the demo country: simulate(seed, scale, years) -> Country (pipelines/generator/country.py).

Orchestrates the modules: institutions (the real backbone, sampled by scale), schooling (learners year by
year), staff (posts year by year), people (codes, names), geography (points, LKS-92) and fills every frame.
Targets and rates: pipelines/generator/targets.py (DESIGN.md §2).
"""
from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.generator import geography, institutions, people, schooling, staff, targets
from pipelines.generator.country import Country
from pipelines.generator.schooling import d
from pipelines.settings import SEEDS_DIR

STREETS = ["Brīvības iela", "Skolas iela", "Rīgas iela", "Dzirnavu iela", "Liepu iela", "Ozolu iela",
           "Dārza iela", "Parka iela", "Stacijas iela", "Meža iela", "Lauku iela", "Saules iela", "Pils iela",
           "Ezera iela", "Upes iela", "Kalna iela", "Jaunā iela", "Bērzu iela", "Smilšu iela", "Krasta iela",
           "Tirgus iela", "Baznīcas iela", "Avotu iela", "Pļavu iela", "Zaļā iela", "Ventas iela",
           "Daugavas iela", "Gaujas iela", "Aspazijas iela", "Raiņa iela", "Lāčplēša iela", "Miera iela",
           "Kr. Barona iela", "Valdemāra iela", "Zemgales iela", "Vidzemes iela", "Kurzemes iela", "Ābeļu iela"]
PROGRAMME_NAMES = {
    schooling.CODE_PRESCHOOL: ("Vispārējās pirmsskolas izglītības programma", "PIRMSSKOLA"),
    schooling.CODE_BASIC: ("Pamatizglītības programma", "PAMATIZGLITIBA"),
    schooling.CODE_SPECIAL: ("Speciālās pamatizglītības programma", "SPECIALA"),
    schooling.CODE_SECONDARY: ("Vispārējās vidējās izglītības programma", "VIDEJA"),
    schooling.CODE_VET4: ("Profesionālās vidējās izglītības programma", "PROFESIONALA"),
    schooling.CODE_VET2: ("Arodizglītības programma (pēc vidējās izglītības)", "PROFESIONALA"),
    schooling.CODE_BACHELOR: ("Bakalaura studiju programma", "AUGSTAKA"),
    schooling.CODE_MASTER: ("Maģistra studiju programma", "AUGSTAKA"),
}


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def simulate(seed: int, scale: float, years: list[int]) -> Country:
    years = sorted(int(y) for y in years)
    y_last = years[-1]
    inst = institutions.build(scale, _rng(seed, 1)).with_row_index("inst").with_columns(pl.col("inst").cast(pl.Int64))
    reg = people.Registry()
    out = schooling.simulate_learners(inst, reg, years, scale, _rng(seed, 2))
    schooling.simulate_tertiary(out, inst, reg, years, scale, _rng(seed, 3))
    sch = out.schools
    reg_of = inst.select("reg_nr", "inst")

    # ---- general-education spells -> learner_years, classes ----------------------------------------------
    sp = {k: np.concatenate([s[k] for s in out.spells]) for k in out.spells[0]}
    letters = schooling.LETTERS
    reg_nr = sch.reg_nr[sp["sch"]]
    class_id = pl.Series(reg_nr) + "-" + pl.Series(sp["year"].astype(str)) + "-" + pl.Series(sp["grade"].astype(str)) + pl.Series(letters[sp["letter"]])
    learner_years = pl.DataFrame({
        "year": sp["year"].astype(np.int32), "person_key": sp["pk"], "reg_nr": reg_nr,
        "grade": sp["grade"].astype(np.int32), "class_id": class_id,
        "programme_code": sch.programme(sp["sch"], sp["grade"]),
        "start_date": sp["start"], "end_date": sp["end"], "end_reason": sp["reason"].astype(str),
        "repeating": sp["repeating"],
    }).with_columns(pl.col("start_date").cast(pl.Date), pl.col("end_date").cast(pl.Date)).sort("year", "person_key", "start_date")
    cl = {k: np.concatenate([c[k] for c in out.classes]) for k in out.classes[0]}
    c_reg = sch.reg_nr[cl["sch"]]
    classes = pl.DataFrame({
        "class_id": pl.Series(c_reg) + "-" + pl.Series(cl["year"].astype(str)) + "-" + pl.Series(cl["grade"].astype(str)) + pl.Series(letters[cl["letter"]]),
        "year": cl["year"].astype(np.int32), "reg_nr": c_reg, "grade": cl["grade"].astype(np.int32),
        "letter": letters[cl["letter"]], "programme_code": sch.programme(cl["sch"], cl["grade"]),
    }).sort("year", "reg_nr", "grade", "letter")
    del sp, cl, class_id, reg_nr, c_reg
    out.spells, out.classes = [], []  # free the per-year arrays before the big frames are built

    # ---- all enrolments: general + pre-school + VET + HE; spells open at the end of the last year stay open --
    ot = {k: np.concatenate([s[k] for s in out.other]) for k in out.other[0]}
    other = pl.DataFrame({
        "person_key": ot["pk"], "reg_nr": ot["reg_nr"], "programme_code": ot["code"],
        "grade": pl.Series([None] * ot["pk"].size, dtype=pl.Int32),
        "course": pl.Series(ot["course"].astype(np.int32)).replace(0, None),
        "class_id": pl.Series([None] * ot["pk"].size, dtype=pl.Utf8),
        "start_date": ot["start"], "end_date": ot["end"], "end_reason": ot["reason"].astype(str),
        "year_started": ot["year"].astype(np.int32),
    }).with_columns(pl.col("start_date").cast(pl.Date), pl.col("end_date").cast(pl.Date))
    del ot
    out.other = []
    gen = learner_years.select(
        "person_key", "reg_nr", "programme_code", "grade", pl.lit(None, pl.Int32).alias("course"), "class_id",
        "start_date", "end_date", "end_reason", pl.col("year").alias("year_started"))
    open_end = (pl.col("year_started") == y_last) & pl.col("end_reason").is_in(["PAREJA", "ATSTATS"])
    enrolments = pl.concat([gen, other]).with_columns(
        end_date=pl.when(open_end).then(None).otherwise(pl.col("end_date")),
        end_reason=pl.when(open_end).then(None).otherwise(pl.col("end_reason")),
    ).sort("person_key", "start_date", "reg_nr")

    # ---- staff ----------------------------------------------------------------------------------------------
    staff_posts, academic_posts = _staff(inst, learner_years, other, reg, years, _rng(seed, 4))

    # ---- persons and addresses ------------------------------------------------------------------------------
    persons = reg.frame()
    used = pl.concat([enrolments.select("person_key"), staff_posts.select("person_key"),
                      academic_posts.select("person_key")]).unique()
    persons = persons.join(used, on="person_key", how="semi").sort("person_key")
    persons = people.finish(persons, _rng(seed, 5))
    addresses, inst_codes, person_codes = _addresses(inst, persons, _rng(seed, 6))
    persons = persons.with_columns(address_code=person_codes).with_columns(
        role=pl.when(pl.col("person_key").is_in(academic_posts["person_key"].implode())).then(pl.lit("academic"))
        .when(pl.col("person_key").is_in(staff_posts["person_key"].implode())).then(pl.lit("staff"))
        .when(pl.col("person_key").is_in(enrolments["person_key"].implode())).then(pl.lit("learner"))
        .otherwise(pl.lit("other")))
    institutions_frame = inst.with_columns(address_code=inst_codes).select(
        "reg_nr", "name", "kind", "type", "founder_type", "founder", "sector", "grade_min", "grade_max",
        "has_preschool", "atvk_old", "atvk_new", "address_code", "address_old", "address_new", "opened", "closed",
        "vendor", "pupils_ref", "from_reference")

    completions = _completions(out, sch)
    classifiers = _classifiers()
    programmes = _programmes(enrolments, inst, seed)
    population = _population(years, scale, persons, _rng(seed, 7))
    stats = _stats(out, years, learner_years, staff_posts, academic_posts, inst, enrolments)
    return Country(
        seed=seed, scale=scale, years=years,
        institutions=institutions_frame,
        addresses=addresses,
        persons=persons.select("person_key", "personal_code", "first_name", "last_name", "sex", "birth_date",
                               "address_code", "role"),
        programmes=programmes, classes=classes, enrolments=enrolments, learner_years=learner_years,
        staff_posts=staff_posts, academic_posts=academic_posts, completions=completions,
        classifiers=classifiers, population=population, stats=stats,
    )


def _staff(inst: pl.DataFrame, learner_years: pl.DataFrame, other: pl.DataFrame, reg, years, rng):
    T = targets
    a, b = T.TEACHER_POSTS
    at_start = learner_years.filter(pl.col("start_date") == pl.date(pl.col("year"), 9, 1))
    pupils = at_start.group_by("year", "reg_nr").len("n").join(inst.select("reg_nr", "inst"), on="reg_nr")
    general = pl.concat([
        pupils.select("year", "inst", pl.lit("PEDAGOGS").alias("post_code"), (a + b * pl.col("n")).round().cast(pl.Int64).alias("need"), pl.lit(True).alias("shareable")),
        pupils.select("year", "inst", pl.lit("DIREKTORS").alias("post_code"), pl.lit(1, pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
        pupils.select("year", "inst", pl.lit("DIREKTORA_VIETNIEKS").alias("post_code"), (1 + pl.col("n") // 250).cast(pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
        pupils.select("year", "inst", pl.lit("ATBALSTA_PERSONALS").alias("post_code"), (1 + pl.col("n") // 120).cast(pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
    ])
    oth = other.group_by(pl.col("year_started").alias("year"), "reg_nr", "programme_code").len("n").join(
        inst.select("reg_nr", "inst", "sector"), on="reg_nr")
    pre = oth.filter(pl.col("programme_code") == schooling.CODE_PRESCHOOL).group_by("year", "inst", "sector").agg(pl.col("n").sum())
    vet = oth.filter(pl.col("sector") == "vocational").filter(pl.col("programme_code").is_in([schooling.CODE_VET4, schooling.CODE_VET2])).group_by("year", "inst").agg(pl.col("n").sum())
    he = oth.filter(pl.col("sector") == "higher").group_by("year", "inst").agg(pl.col("n").sum())
    rest = pl.concat([
        pre.select("year", "inst", pl.lit("PIRMSSKOLAS_SKOLOTAJS").alias("post_code"), (pl.col("n") / 8).ceil().cast(pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
        pre.filter(pl.col("sector") == "preschool").select("year", "inst", pl.lit("DIREKTORS").alias("post_code"), pl.lit(1, pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
        vet.select("year", "inst", pl.lit("PROF_MACIBU_SKOLOTAJS").alias("post_code"), (pl.col("n") / 16).ceil().cast(pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
        vet.select("year", "inst", pl.lit("PEDAGOGS").alias("post_code"), (pl.col("n") / 40).ceil().cast(pl.Int64).alias("need"), pl.lit(False).alias("shareable")),
    ])
    # a vocational school with general grades has one demand per post kind
    demand = pl.concat([general, rest]).group_by("year", "inst", "post_code").agg(pl.col("need").sum(), pl.col("shareable").any())
    codes = sorted(demand["post_code"].unique().to_list())
    demand = demand.with_columns(code_id=pl.col("post_code").replace_strict(codes, list(range(len(codes))), return_dtype=pl.Int64)).sort("year", "inst", "post_code")
    unit = inst["unit_idx"].to_numpy().astype(np.int64)
    sp = staff.run(demand, unit, reg, years, rng)
    he_d = he.select("year", "inst", pl.lit("AKAD").alias("post_code"), (pl.col("n") * T.ACADEMIC_PER_STUDENT).round().cast(pl.Int64).clip(lower_bound=1).alias("need"),
                     pl.lit(False).alias("shareable"), pl.lit(0, pl.Int64).alias("code_id")).sort("year", "inst")
    ap = staff.run(he_d, unit, reg, years, rng, role="academic", second_post_codes=())
    y_last = max(years)
    regs = inst.select("inst", "reg_nr")
    # per person: education level, and for academics a position with its degree
    edu = pl.DataFrame({"person_key": sp["person_key"].unique().sort()})
    edu = edu.with_columns(education=pl.Series(np.array(staff.EDUCATION[0])[rng.choice(4, edu.height, p=staff.EDUCATION[1])]))
    open_end = (pl.col("year") == y_last) & (pl.col("end_date") == pl.date(y_last + 1, 8, 31))
    staff_posts = sp.join(regs, on="inst").join(edu, on="person_key").with_columns(
        end_date=pl.when(open_end).then(None).otherwise(pl.col("end_date"))).select(
        "person_key", "reg_nr", "post_code", "subject_code", "fte", "qualification", "education", "start_date",
        "end_date", "year").sort("year", "reg_nr", "person_key", "post_code")
    pos = pl.DataFrame({"person_key": ap["person_key"].unique().sort()})
    position = np.array(staff.AKAD[0])[rng.choice(6, pos.height, p=staff.AKAD[1])]
    doctor = np.isin(position, ["PROFESORS", "ASOC_PROFESORS", "DOCENTS"]) | (rng.random(pos.height) < 0.2)
    pos = pos.with_columns(position=pl.Series(position), degree=pl.Series(np.where(doctor, "DOKTORS", "MAGISTRS")))
    academic_posts = ap.join(regs, on="inst").join(pos, on="person_key").with_columns(
        end_date=pl.when(open_end).then(None).otherwise(pl.col("end_date")),
        fte=(pl.col("fte") * 0.9).round(2).clip(0.1, 1.5)).select(
        "person_key", "reg_nr", "position", "degree", "fte", "start_date", "end_date", "year").sort("year", "reg_nr", "person_key")
    return staff_posts, academic_posts


def _addresses(inst: pl.DataFrame, persons: pl.DataFrame, rng):
    """Address points for institutions and homes: unique 9-digit codes, post-reform text, units, LKS-92."""
    u = geography.units()
    n_i, n_p = inst.height, persons.height
    codes = rng.choice(900_000_000, size=n_i + n_p, replace=False) + 100_000_000
    lat = np.concatenate([inst["lat"].to_numpy(), persons["lat"].to_numpy()])
    lon = np.concatenate([inst["lon"].to_numpy(), persons["lon"].to_numpy()])
    unit = np.concatenate([inst["unit_idx"].to_numpy(), persons["unit_idx"].to_numpy()]).astype(np.int64)
    x, y = geography.lks92(lat, lon)
    atvk_new = u["atvk_code"].to_numpy()[unit]
    atvk_old = geography.old_unit_of(lat, lon, unit)
    atvk_old[:n_i] = inst["atvk_old"].to_numpy()
    # home text: street, house, the unit's centre, the unit, a postcode used by the unit's institutions
    pc = inst.select("unit_idx", pl.col("address_old").str.extract(r"(LV-[0-9]{4})\s*$")).drop_nulls().unique().sort("unit_idx", "address_old")
    pc_u, pc_v = pc["unit_idx"].to_numpy().astype(np.int64), pc["address_old"].to_numpy()
    pu = unit[n_i:]
    start = np.searchsorted(pc_u, pu, side="left")
    cnt = np.searchsorted(pc_u, pu, side="right") - start
    pick = np.where(cnt > 0, start + (rng.random(n_p) * np.maximum(cnt, 1)).astype(np.int64), 0)
    postcode = np.where(cnt > 0, pc_v[np.clip(pick, 0, pc_v.size - 1)], "LV-1001")
    street = np.array([s.upper() for s in STREETS])[rng.integers(0, len(STREETS), n_p)]
    house = rng.integers(1, 120, n_p).astype(str)
    flat = np.where(rng.random(n_p) < 0.5, np.char.add(" - ", rng.integers(1, 80, n_p).astype(str)), "")
    city = u["kind"].to_numpy()[pu] == "valstspilseta"
    centre = np.char.upper(u["centre"].to_numpy()[pu].astype(str))
    uname = np.char.upper(u["name"].to_numpy()[pu].astype(str))
    place = np.where(city, centre, np.char.add(np.char.add(centre, ", "), uname))
    text = np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(street, " "), house), flat), ", "),
                       np.char.add(np.char.add(place, ", "), postcode.astype(str)))
    addresses = pl.DataFrame({
        "address_code": codes.astype(str), "address": np.concatenate([inst["address_new"].to_numpy().astype(str), text]),
        "atvk_new": atvk_new, "atvk_old": atvk_old, "x_lks92": np.round(x, 2), "y_lks92": np.round(y, 2),
        "lat": np.round(lat, 6), "lon": np.round(lon, 6),
    })
    return addresses, pl.Series(codes[:n_i].astype(str)), pl.Series(codes[n_i:].astype(str))


def _completions(out, sch) -> pl.DataFrame:
    frames = []
    for c in out.completions:
        reg_nr = c["reg_nr"] if "reg_nr" in c else sch.reg_nr[c["sch"]]
        frames.append(pl.DataFrame({"person_key": c["pk"], "year": c["year"].astype(np.int32),
                                    "reg_nr": np.asarray(reg_nr, dtype=str), "level": np.asarray(c["level"], dtype=str),
                                    "programme_code": np.asarray(c["code"], dtype=str), "date": c["date"]},
                                   schema_overrides={"reg_nr": pl.Utf8, "level": pl.Utf8, "programme_code": pl.Utf8}))
    return pl.concat(frames).with_columns(pl.col("date").cast(pl.Date)).sort("year", "person_key")


def _classifiers() -> pl.DataFrame:
    df = pl.read_csv(SEEDS_DIR / "viis_classifiers.csv", infer_schema=False)
    extra = pl.DataFrame({"classifier": ["BEIGU_IEMESLS", "BEIGU_IEMESLS"], "code": ["ATSTATS", "PAREJA"],
                          "name_lv": ["Atstāts uz otru gadu tajā pašā klasē", "Pārcelts uz nākamo klasi"],
                          "name_en": ["Kept in the same grade", "Promoted to the next grade"]})
    extra = extra.join(df, on=["classifier", "code"], how="anti")
    return pl.concat([df, extra.select(df.columns)]).sort("classifier", "code")


def _programmes(enrolments: pl.DataFrame, inst: pl.DataFrame, seed: int) -> pl.DataFrame:
    pairs = enrolments.select("reg_nr", "programme_code").unique().sort("reg_nr", "programme_code")
    rng = _rng(seed, 8)
    n = pairs.height
    lic = np.datetime64("2005-01-01") + rng.integers(0, 365 * 10, n).astype("timedelta64[D]")
    acc = np.datetime64("2025-01-01") + rng.integers(0, 365 * 6, n).astype("timedelta64[D]")
    names = {k: v[0] for k, v in PROGRAMME_NAMES.items()}
    kinds = {k: v[1] for k, v in PROGRAMME_NAMES.items()}
    return pairs.with_columns(
        name=pl.col("programme_code").replace_strict(names),
        programme_kind=pl.col("programme_code").replace_strict(kinds),
        licence_nr=pl.lit("V-") + pl.Series((rng.integers(1000, 99999, n)).astype(str)),
        licence_date=pl.Series(lic).cast(pl.Date),
        accredited_until=pl.Series(acc).cast(pl.Date),
    ).select("reg_nr", "programme_code", "name", "programme_kind", "licence_nr", "licence_date", "accredited_until")


# share of the population by age group 25-100 (rough Latvian pyramid, 2024), per sex
def _adult_weights() -> tuple[np.ndarray, np.ndarray]:
    age = np.arange(25, 101)
    base = np.interp(age, [25, 35, 45, 55, 65, 75, 85, 95, 100], [1.0, 1.15, 1.05, 1.1, 1.0, 0.7, 0.35, 0.06, 0.01])
    male = base * np.interp(age, [25, 50, 65, 80, 100], [1.03, 0.95, 0.8, 0.55, 0.3])
    female = base
    return male, female


def _population(years, scale, persons: pl.DataFrame, rng) -> pl.DataFrame:
    """Residents on 1 January (calendar years of the school years and the year after): ages 0-24 from the
    simulated birth cohorts (unit shares from the children's homes), older ages from population_2024."""
    u = geography.units()
    n_u = u.height
    kids = persons.filter(pl.col("role") == "learner").filter(pl.col("birth_date") >= pl.date(2000, 1, 1))
    share = np.bincount(kids["unit_idx"].to_numpy().astype(np.int64), minlength=n_u).astype(float) + 1.0
    share /= share.sum()
    pop24 = u["population_2024"].to_numpy().astype(float)
    male_w, female_w = _adult_weights()
    rows = []
    for cy in range(min(years), max(years) + 2):  # calendar years
        ages = np.arange(0, 25)
        by = cy - 1 - ages
        young = np.array([targets.BIRTHS.get(int(b), 20_000) * targets.cohort_retention(int(b)) for b in by]) * scale
        growth = 1 + 0.007 * (2024 - cy)
        adults_total = pop24 * growth * scale - young.sum() * share
        adults_total = np.maximum(adults_total, 0)
        for sex, w, ysh in (("M", male_w, 0.513), ("F", female_w, 0.487)):
            a = np.outer(adults_total, w / (male_w.sum() + female_w.sum()))
            yv = np.outer(share, young * ysh)
            vals = np.concatenate([yv, a], axis=1)
            vals = np.floor(vals + rng.random(vals.shape)).astype(np.int64)
            rows.append(pl.DataFrame({
                "calendar_year": np.full(vals.size, cy, dtype=np.int32),
                "atvk_new": np.repeat(u["atvk_code"].to_numpy(), 101),
                "sex": np.full(vals.size, sex), "age": np.tile(np.arange(0, 101, dtype=np.int32), n_u),
                "population": vals.ravel()}))
    return pl.concat(rows).sort("calendar_year", "atvk_new", "sex", "age")


def _stats(out, years, learner_years, staff_posts, academic_posts, inst, enrolments) -> dict:
    gen_regs = inst.filter(pl.col("grade_min").is_not_null())["reg_nr"].implode()
    teachers = staff_posts.filter((pl.col("post_code") == "PEDAGOGS") & pl.col("reg_nr").is_in(gen_regs)).group_by("year").agg(pl.col("person_key").n_unique())
    tmap = dict(teachers.iter_rows())
    amap = dict(academic_posts.group_by("year").agg(pl.col("person_key").n_unique()).iter_rows())
    per_year = {}
    for y in years:
        per_year[y] = {
            "pupils": out.counts[(y, "pupils")], "grade1": out.counts[(y, "grade1")],
            "general_schools": out.counts[(y, "schools")], "teachers": tmap.get(y, 0),
            "preschool": out.counts[(y, "preschool")], "preschool_in_schools": out.counts[(y, "preschool_in_school")],
            "vocational": out.counts[(y, "vocational")], "higher": out.counts[(y, "higher")],
            "academic": amap.get(y, 0),
        }
    return {"per_year": per_year, "rows": {"enrolments": enrolments.height, "learner_years": learner_years.height,
                                           "staff_posts": staff_posts.height, "academic_posts": academic_posts.height}}
