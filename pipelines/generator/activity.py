"""What learners do during a school year, drawn for whole columns at once: grades, planned lessons, absences,
submission batches of the school systems, exam results, graduate outcomes and unemployment registrations.

Every draw uses its own stream numpy.random.default_rng([seed, year, STREAM]) so one feed's draws do not move
another's (adding a feed keeps the others' bytes)."""
from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import polars as pl

from pipelines import settings
from pipelines.generator.country import Country
from pipelines.generator.writers.common import sort_by

# stream ids (fixed: changing one changes that feed's output only)
S_ABILITY, S_GRADES, S_ABSENCE, S_SUBMIT, S_EXAMS, S_OUTCOMES, S_NVA, S_SCHOOL = 1, 2, 3, 4, 5, 6, 7, 8

LESSONS_PER_DAY = np.array([0, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 7])  # index = grade
# illness peaks in Nov-Dec and Feb-Mar (month -> multiplier of a pupil's propensity)
SEASON = {9: 0.7, 10: 0.9, 11: 1.25, 12: 1.25, 1: 1.0, 2: 1.3, 3: 1.2, 4: 0.85, 5: 0.75, 6: 0.6}
REASONS = np.array(["S", "C", "N"])  # illness, other justified, unexcused
REASON_P = [0.65, 0.20, 0.15]

_COMMON = ["LAT", "MAT", "ANG"]
SUBJECTS_BY_GRADE = {
    **{g: _COMMON + ["DAB", "SOC", "SPO", "MUZ", "VIZ", "TEH"] for g in (1, 2, 3)},
    **{g: _COMMON + ["L2", "DAB", "VES", "SOC", "INF", "SPO", "MUZ", "VIZ", "TEH"] for g in (4, 5, 6)},
    7: _COMMON + ["L2", "BIO", "GEO", "VES", "SOC", "SPO", "MUZ", "VIZ", "TEH"],
    **{g: _COMMON + ["L2", "BIO", "FIZ", "KIM", "GEO", "VES", "SOC", "SPO", "MUZ"] for g in (8, 9)},
    **{g: _COMMON + ["L2", "FIZ", "KIM", "BIO", "VES", "SOC", "INF", "SPO"] for g in (10, 11, 12)},
}
SUBJECT_EFFECT = {"MAT": -0.5, "FIZ": -0.35, "KIM": -0.3, "LAT": -0.1, "ANG": 0.2, "SPO": 1.0, "MUZ": 0.8,
                  "VIZ": 0.8, "TEH": 0.6, "INF": 0.3}
LEVELS_1_3 = ["S", "T", "A", "P"]  # sākts, turpina, apguvis, apguvis padziļināti
MARK_LABELS = [str(i) for i in range(1, 11)] + LEVELS_1_3 + ["nv", "i", "ni"]

EXAMS_9 = ["LVA9", "MAT9", "ANG9", "VES9"]
EXAMS_12 = ["LVA12", "MAT12", "ANG12"]
ELECTIVES_12 = ["KRV12", "VAC12", "FIZ12", "KIM12", "BIO12", "VES12"]
EXAM_DAY = {"LVA9": (5, 20), "MAT9": (5, 23), "ANG9": (5, 16), "VES9": (5, 27), "LVA12": (5, 7),
            "MAT12": (5, 12), "ANG12": (5, 3), "KRV12": (5, 30), "VAC12": (5, 30), "FIZ12": (6, 2),
            "KIM12": (6, 4), "BIO12": (6, 6), "VES12": (6, 9)}

OUTCOME_LAST_YEAR = 2024  # the last calendar year whose tax and employment records are complete


def rng_for(seed: int, year: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, year, stream])


# ------------------------------------------------------------------------------------------ calendar ---

def _easter(year: int) -> dt.date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def school_days(year: int, last: dt.date | None = None) -> np.ndarray:
    """Mon-Fri school days of school year `year` from 1 Sep to 31 May (or `last`), less the holidays:
    the autumn week at the end of October, 22 Dec - 2 Jan, a spring week in mid-March, Easter Monday,
    18 November and 4 May (and their Monday substitutes are ignored: a demo calendar)."""
    first = np.datetime64(dt.date(year, 9, 1))
    end = np.datetime64(last or dt.date(year + 1, 5, 31)) + 1
    days = np.arange(first, end, dtype="datetime64[D]")
    days = days[np.is_busday(days)]
    y1 = year + 1
    # autumn week: the Monday of the last full week of October
    oct31 = dt.date(year, 10, 31)
    autumn = oct31 - dt.timedelta(days=oct31.weekday()) - dt.timedelta(days=7 if oct31.weekday() < 4 else 0)
    march = dt.date(y1, 3, 15) - dt.timedelta(days=dt.date(y1, 3, 15).weekday())
    off = [np.arange(np.datetime64(autumn), np.datetime64(autumn) + 5),
           np.arange(np.datetime64(dt.date(year, 12, 22)), np.datetime64(dt.date(y1, 1, 3))),
           np.arange(np.datetime64(march), np.datetime64(march) + 5),
           np.array([np.datetime64(_easter(y1) + dt.timedelta(days=1)), np.datetime64(dt.date(year, 11, 18)),
                     np.datetime64(dt.date(y1, 5, 4))])]
    return days[~np.isin(days, np.concatenate(off).astype("datetime64[D]"))]


def extended_last_day(year: int) -> dt.date:
    """Grades 9 and 12 go on to mid-June (exams)."""
    return dt.date(year + 1, 6, 15)


# ------------------------------------------------------------------------------------- shared draws ---

def ability(country: Country) -> np.ndarray:
    """A pupil's general ability (standard normal), indexed by person_key, fixed across years."""
    n = int(country.persons["person_key"].max()) + 1 if country.persons.height else 1
    return rng_for(country.seed, 0, S_ABILITY).standard_normal(n)


def school_effect(country: Country) -> pl.DataFrame:
    regs = country.institutions["reg_nr"].sort()
    eff = rng_for(country.seed, 0, S_SCHOOL).normal(0.0, 0.4, regs.len())
    return pl.DataFrame({"reg_nr": regs, "school_eff": eff})


def vendor_spells(country: Country, year: int) -> pl.DataFrame:
    """General-education spells of `year` at schools with a school system (vendor A or B)."""
    inst = country.institutions.select("reg_nr", "vendor").filter(pl.col("vendor").is_not_null())
    letters = country.classes.select("class_id", "letter")
    return (
        country.learner_years.filter(pl.col("year") == year)
        .join(inst, on="reg_nr", how="inner")
        .join(letters, on="class_id", how="left")
        .with_columns(pl.col("letter").fill_null(""))
        .sort("person_key", "start_date", "reg_nr")
    )


# ------------------------------------------------------------------------------------------- grades ---

def grades(country: Country, year: int) -> pl.DataFrame:
    """One mark per pupil, subject and period (1_SEM at the school of 20 Dec; 2_SEM and GADA at the school of
    25 May). Columns: person_key, reg_nr, vendor, grade, letter, period, subject, mark."""
    rng = rng_for(country.seed, year, S_GRADES)
    spells = vendor_spells(country, year)
    d1, d2 = dt.date(year, 12, 20), dt.date(year + 1, 5, 25)
    at = lambda d: (pl.col("start_date") <= d) & (pl.col("end_date") >= d)  # noqa: E731
    s1 = spells.filter(at(d1)).with_columns(pl.lit(["1_SEM"]).alias("period"))
    s2 = spells.filter(at(d2)).with_columns(pl.lit(["2_SEM", "GADA"]).alias("period"))
    base = pl.concat([s1, s2]).explode("period").unique(["person_key", "period"], keep="first", maintain_order=True)
    subj = pl.DataFrame(
        [(g, s) for g, ss in SUBJECTS_BY_GRADE.items() for s in ss], schema=["grade", "subject"], orient="row"
    ).with_columns(pl.col("grade").cast(base.schema["grade"]))
    rows = base.join(subj, on="grade", how="inner")
    ab = ability(country)
    # second foreign language: Russian or German by pupil (stable across years)
    l2 = pl.when((pl.col("person_key") * 2654435761) % 100 < 55).then(pl.lit("KRV")).otherwise(pl.lit("VAC"))
    rows = rows.with_columns(
        pl.when(pl.col("subject") == "L2").then(l2).otherwise(pl.col("subject")).alias("subject")
    ).join(school_effect(country), on="reg_nr", how="left")
    n = rows.height
    subj_eff = rows["subject"].replace_strict(SUBJECT_EFFECT, default=0.0, return_dtype=pl.Float64).to_numpy()
    latent = (6.75 + 1.45 * ab[rows["person_key"].to_numpy()] + rows["school_eff"].fill_null(0).to_numpy()
              + subj_eff + rng.normal(0, 0.8, n))
    # marks as indexes into MARK_LABELS (no Python strings per row)
    code = (np.clip(np.rint(latent), 1, 10) - 1).astype(np.int64)
    young = rows["grade"].to_numpy() <= 3
    code = np.where(young, 10 + np.digitize(latent, [4.5, 6.0, 8.2]), code)
    u = rng.random(n)
    code = np.where(u < 0.005, 14, code)  # nv: not assessed
    pf = (~young) & (rows["subject"].to_numpy() == "SPO") & (u > 0.99)
    code = np.where(pf, np.where(latent < 4.0, 16, 15), code)  # ni / i
    marks = pl.Series(MARK_LABELS).gather(pl.Series(code))
    return rows.with_columns(marks.alias("mark")).select(
        "person_key", "reg_nr", "vendor", "grade", "letter", "period", "subject", "mark")


# ----------------------------------------------------------------------------- lessons and absences ---

def _month_key(d: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(d.astype("datetime64[M]"), unit="M")


def attendance(country: Country, year: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(planned, absences). planned: person_key, reg_nr, vendor, month ('YYYY-MM'), planned (lessons).
    absences: one row per pupil and school day with a reason: person_key, reg_nr, vendor, date, reason (S/C/N),
    first_lesson, lessons (missed). A pupil's propensity is log-normal (heavy tail): ~12 % miss >= 10 % and
    ~1 % miss >= 50 % of their planned lessons."""
    rng = rng_for(country.seed, year, S_ABSENCE)
    sp = vendor_spells(country, year)
    if sp.height == 0:
        empty_p = pl.DataFrame(schema={"person_key": pl.Int64, "reg_nr": pl.Utf8, "vendor": pl.Utf8,
                                       "month": pl.Utf8, "planned": pl.Int64})
        empty_a = pl.DataFrame(schema={"person_key": pl.Int64, "reg_nr": pl.Utf8, "vendor": pl.Utf8,
                                       "date": pl.Date, "reason": pl.Utf8, "first_lesson": pl.Int64,
                                       "lessons": pl.Int64})
        return empty_p, empty_a
    n = sp.height
    start = sp["start_date"].to_numpy().astype("datetime64[D]")
    end = sp["end_date"].to_numpy().astype("datetime64[D]")
    grade = sp["grade"].to_numpy().astype(int)
    per_day = LESSONS_PER_DAY[grade]
    ext = np.isin(grade, (9, 12))
    # propensity per pupil (not per spell): log-normal, capped
    ab = ability(country)
    pk = sp["person_key"].to_numpy()
    z = rng.standard_normal(int(pk.max()) + 1)[pk] * 0.9 - 0.25 * ab[pk] * 1.0
    prop = np.minimum(np.exp(-3.95 + 1.40 * z / np.sqrt(0.81 + 0.0625)), 0.92)
    days_all = school_days(year, extended_last_day(year))
    normal_last = np.datetime64(dt.date(year + 1, 5, 31))
    months = np.unique(days_all.astype("datetime64[M]"))
    planned_parts, abs_parts = [], []
    for m in months:  # ~10 months: a loop over months, each one vectorised over pupils x days
        days = days_all[days_all.astype("datetime64[M]") == m]
        mnum = int(str(m)[5:7])
        inside = (days[None, :] >= start[:, None]) & (days[None, :] <= end[:, None])
        inside &= (days[None, :] <= normal_last) | ext[:, None]
        n_days = inside.sum(axis=1)
        keep = n_days > 0
        planned_parts.append(pl.DataFrame({"idx": np.nonzero(keep)[0], "month": str(m),
                                           "planned": (n_days * per_day)[keep].astype(np.int64)}))
        p = np.minimum(prop * SEASON[mnum], 0.95)[:, None]
        u = rng.random(inside.shape)
        full = inside & (u < p)
        partial = inside & ~full & (u < p * 1.5)
        i, j = np.nonzero(full | partial)
        if i.size == 0:
            continue
        is_full = full[i, j]
        k_part = 1 + (rng.random(i.size) < 0.35)
        lessons = np.where(is_full, per_day[i], k_part)
        first = np.where(is_full, 1, 1 + np.floor(rng.random(i.size) * (per_day[i] - k_part + 1)).astype(int))
        # a pupil-day's reason; heavy absentees skew to unexcused
        r = rng.random(i.size)
        pn = np.where(prop[i] > 0.3, 0.35, REASON_P[2])
        reason = np.where(r < pn, 2, np.where(r < pn + REASON_P[1], 1, 0))  # index into REASONS
        abs_parts.append(pl.DataFrame({"idx": i, "date": days[j], "reason": reason,
                                       "first_lesson": first.astype(np.int64), "lessons": lessons.astype(np.int64)}))
    keys = sp.select("person_key", "reg_nr", "vendor", "grade", "letter").with_row_index("idx").with_columns(
        pl.col("idx").cast(pl.Int64))
    planned = sort_by(pl.concat(planned_parts).with_columns(pl.col("idx").cast(pl.Int64)).join(keys, on="idx")
                      .group_by("person_key", "reg_nr", "vendor", "month").agg(pl.col("planned").sum()),
                      ["month", "reg_nr", "person_key"])
    absences = sort_by(pl.concat(abs_parts).with_columns(pl.col("idx").cast(pl.Int64), pl.col("date").cast(pl.Date),
                                                         pl.col("reason").replace_strict({0: "S", 1: "C", 2: "N"}, return_dtype=pl.Utf8))
                       .join(keys, on="idx").drop("idx", "grade", "letter")
                       .unique(["person_key", "reg_nr", "date"], keep="first", maintain_order=True),
                       ["date", "reg_nr", "person_key"])
    return planned.select("person_key", "reg_nr", "vendor", "month", "planned"), absences.select(
        "person_key", "reg_nr", "vendor", "date", "reason", "first_lesson", "lessons")


# ------------------------------------------------------------------------------------- submissions ---

@functools.lru_cache(maxsize=1)
def _calendar() -> tuple[dict, dict]:
    """The data calendar (seeds/data_calendar.csv, the single source of deadlines): fixed-date periods by
    label, and the rule of monthly periods ('YYYY-MM')."""
    cal = pl.read_csv(settings.SEEDS_DIR / "data_calendar.csv", infer_schema=False)
    fixed = {r["period"]: r for r in cal.filter(pl.col("period_kind") != "month").iter_rows(named=True)}
    monthly = cal.filter(pl.col("period_kind") == "month").row(0, named=True)
    return fixed, monthly


def deadline(year: int, period: str) -> dt.datetime:
    """The submission deadline of `period` of school year `year`, from the data calendar seed."""
    fixed, monthly = _calendar()
    r = fixed.get(period)
    if r is not None:
        d = dt.date(year + int(r["deadline_year_offset"]), int(r["deadline_month"]), int(r["deadline_day"]))
    else:
        y, m = int(period[:4]), int(period[5:7]) + int(monthly["deadline_months_after"])
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        d, r = dt.date(y, m, int(monthly["deadline_day"])), monthly
    return dt.datetime.combine(d, dt.time.fromisoformat(r["deadline_time"]))


def submissions(country: Country, year: int, periods: list[str]) -> pl.DataFrame:
    """One batch per vendor school and period: submitted timestamp and status. ~93 % on time, ~5 % late
    (days to weeks), ~2 % missing. Columns: reg_nr, vendor, period, deadline, submitted, status."""
    rng = rng_for(country.seed, year, S_SUBMIT)
    regs = vendor_spells(country, year).select("reg_nr", "vendor").unique().sort("reg_nr")
    grid = regs.join(pl.DataFrame({"period": periods}), how="cross")
    n = grid.height
    dl = np.array([np.datetime64(deadline(year, p), "s") for p in periods])
    dl = np.tile(dl, regs.height) if n else np.array([], dtype="datetime64[s]")
    u = rng.random(n)
    status = np.where(u < 0.02, "missing", np.where(u < 0.07, "late", "on_time"))
    monthly = np.array([len(p) == 7 for p in grid["period"].to_list()], dtype=bool)
    early = (rng.random(n) * np.where(monthly, 4, 9) * 86400).astype("timedelta64[s]")
    late = ((1 + rng.random(n) * np.where(monthly, 20, 34)) * 86400).astype("timedelta64[s]")
    t = np.where(status == "late", dl + late, dl - early)
    # working hours 08:00-18:59 of the drawn day; an on-time batch pushed past the deadline moves a day back
    t = t.astype("datetime64[D]") + np.timedelta64(8, "h") + (rng.random(n) * 11 * 3600).astype("timedelta64[s]")
    t = np.where((status != "late") & (t > dl), t - np.timedelta64(1, "D"), t)
    return grid.with_columns(
        pl.Series("deadline", dl.astype("datetime64[us]")),
        pl.Series("submitted", t.astype("datetime64[us]")),
        pl.Series("status", status),
    )


# ----------------------------------------------------------------------------------------- exams ---

def exams(country: Country, year: int) -> pl.DataFrame:
    """Centralised exams of the grade-9 and grade-12 completers of `year`: person_key, reg_nr, exam, level,
    date, result (percent, 1 decimal), correlated with the pupil's ability (and so with the grades)."""
    rng = rng_for(country.seed, year, S_EXAMS)
    comp = country.completions.filter(pl.col("year") == year)
    gen = country.institutions.filter(pl.col("sector") == "general").select("reg_nr")
    basic = comp.filter(pl.col("level") == "basic").join(gen, on="reg_nr", how="semi")
    sec = comp.filter(pl.col("level") == "secondary").join(gen, on="reg_nr", how="semi")
    pk_sec = sec["person_key"].to_numpy()
    elect = np.array(ELECTIVES_12)[rng.choice(len(ELECTIVES_12), size=pk_sec.size, p=[.15, .1, .25, .15, .2, .15])]
    rows = pl.concat([
        basic.select("person_key", "reg_nr").join(pl.DataFrame({"exam": EXAMS_9}), how="cross")
        .with_columns(pl.lit("PAMATA").alias("level")),
        sec.select("person_key", "reg_nr").join(pl.DataFrame({"exam": EXAMS_12}), how="cross")
        .with_columns(pl.lit("OPTIMALAIS").alias("level")),
        sec.select("person_key", "reg_nr").with_columns(
            pl.Series("exam", elect, dtype=pl.Utf8),
            pl.Series("level", np.where(rng.random(pk_sec.size) < 0.3, "AUGSTAKAIS", "OPTIMALAIS"), dtype=pl.Utf8)),
    ]).sort("reg_nr", "person_key", "exam")
    n = rows.height
    ab = ability(country)[rows["person_key"].to_numpy()] if n else np.array([])
    z = 0.8 * ab + 0.6 * rng.standard_normal(n)
    is9 = rows["exam"].str.ends_with("9").to_numpy() if n else np.array([], dtype=bool)
    hard = rows["level"].to_numpy() == "AUGSTAKAIS" if n else np.array([], dtype=bool)
    logit = np.where(is9, 0.5 + 1.4 * z, 0.8 + 1.2 * z) - 0.4 * hard
    result = np.round(100 / (1 + np.exp(-logit)), 1)
    dates = [dt.date(year + 1, *EXAM_DAY[e]) for e in EXAM_DAY]
    day_map = dict(zip(EXAM_DAY, dates))
    return rows.with_columns(
        pl.col("exam").replace_strict(day_map, return_dtype=pl.Date).alias("date"),
        pl.Series("result", result, dtype=pl.Float64),
    )


# ------------------------------------------------------------------------------ graduate outcomes ---

def graduate_outcomes(country: Country, year: int) -> pl.DataFrame:
    """Outcomes at the end of calendar year year+2 for the secondary, vocational and higher completers of
    `year`, when that year's records are complete (year + 2 <= OUTCOME_LAST_YEAR); else empty.
    Columns: person_key, grad_year, employed, income, studying, emigrated."""
    schema = {"person_key": pl.Int64, "grad_year": pl.Int32, "employed": pl.Boolean, "income": pl.Float64,
              "studying": pl.Boolean, "emigrated": pl.Boolean}
    if year + 2 > OUTCOME_LAST_YEAR:
        return pl.DataFrame(schema=schema)
    rng = rng_for(country.seed, year, S_OUTCOMES)
    comp = (country.completions.filter((pl.col("year") == year) & pl.col("level").is_in(["secondary", "vocational", "higher"]))
            .unique("person_key", keep="first", maintain_order=True).sort("person_key"))
    n = comp.height
    level = comp["level"].to_numpy()
    p_emp = np.select([level == "secondary", level == "vocational"], [0.5, 0.7], 0.85)
    p_study = np.select([level == "secondary", level == "vocational"], [0.7, 0.2], 0.12)
    emigrated = rng.random(n) < 0.05
    employed = (~emigrated) & (rng.random(n) < p_emp)
    studying = (~emigrated) & (rng.random(n) < p_study)
    median = np.select([level == "secondary", level == "vocational"], [6500.0, 9000.0], 14000.0)
    income = np.round(median * np.exp(rng.normal(0, 0.55, n)), 2)
    return pl.DataFrame({
        "person_key": comp["person_key"].cast(pl.Int64),
        "grad_year": comp["date"].dt.year().cast(pl.Int32),
        "employed": employed, "income": np.where(employed, income, np.nan), "studying": studying,
        "emigrated": emigrated,
    }, schema=schema).with_columns(pl.col("income").fill_nan(None))


# ------------------------------------------------------------------------------------- unemployment ---

def unemployed(country: Country, year: int) -> pl.DataFrame:
    """Registrations at the employment agency with a registration date inside school year `year`: ~9 % of
    the previous year's secondary/vocational/higher completers, ~4 % of this year's (after completing), and a
    few other adults. Columns: person_key, registered, deregistered (null = still registered)."""
    rng = rng_for(country.seed, year, S_NVA)
    y0, y_end = np.datetime64(dt.date(year, 9, 1)), np.datetime64(dt.date(year + 1, 8, 31))
    levels = ["secondary", "vocational", "higher", "basic"]
    comp = country.completions.filter(pl.col("level").is_in(levels))
    prev = comp.filter(pl.col("year") == year - 1).select("person_key", pl.lit(y0).alias("from"))
    cur = comp.filter(pl.col("year") == year).select(
        "person_key", (pl.col("date") + pl.duration(days=1)).alias("from"))
    others = country.persons.filter(pl.col("role").is_in(["other", "staff"])).select("person_key")
    others = others.with_columns(pl.lit(y0).alias("from"))
    cand = pl.concat([prev.with_columns(pl.lit(0.09).alias("p")), cur.with_columns(pl.lit(0.04).alias("p")),
                      others.with_columns(pl.lit(0.01).alias("p"))], how="vertical_relaxed")
    cand = cand.filter(pl.Series(rng.random(cand.height)) < pl.col("p")).unique("person_key", keep="first",
                                                                                 maintain_order=True)
    n = cand.height
    frm = cand["from"].cast(pl.Date).to_numpy().astype("datetime64[D]")
    span = np.maximum((y_end - frm).astype(int), 1)
    reg = frm + (rng.random(n) * span).astype(int)
    dereg = reg + (rng.exponential(110, n) + 7).astype(int)
    open_ = dereg > y_end
    return pl.DataFrame({
        "person_key": cand["person_key"].cast(pl.Int64),
        "registered": reg,
        "deregistered": np.where(open_, np.datetime64("NaT"), dereg).astype("datetime64[D]"),
    }).with_columns(pl.col("registered").cast(pl.Date), pl.col("deregistered").cast(pl.Date)).sort("registered", "person_key")
