"""The bulk person status check: personal codes in, each person's status in education on a date out.

Steps (each timed; `run_check` returns the timings):
1. read    the requester's CSV/XLSX -> (row, code as given)                          (pipelines.persons.io)
2. validate  normalise + format / checksum / birth-date checks, whole column          (common.personal_codes)
3. pseudonymise  HMAC-SHA-256 with the ingest's key, inside an in-memory DuckDB        (common.pseudonymise)
4. query   ONE query: the temp table of pseudonyms (in memory) joined to marts.fct_enrolment_spells of the
           warehouse, ATTACHed read-only; continuous stays, active spells, last ended spell, last completion
5. write   CSV (UTF-8) or XLSX, Latvian column names, an English/Latvian legend

Status on the date D (a spell is active on D when start_date <= D and (end_date is null or end_date >= D)):
  enrolled      at least one active spell. The MAIN enrolment is chosen by programme kind (higher education,
                vocational, general secondary, special, basic, pre-school, then anything else, e.g. interest
                education), then the longest stay, then reg. nr; every other active enrolment is listed in
                `citas_macibu_vietas` and `macibu_vietu_skaits` counts them all (one output row per input row).
                `macas_kops` (since) = the start of the continuous stay at the main institution: consecutive spells
                of the person at that institution are one stay when the next starts at most 92 days after the
                previous ended (summer holidays; promotion, repetition, completion followed by the next stage,
                a programme change) and the previous did not end by transfer, dropping out, moving abroad or death.
                The stay can begin no earlier than the first school year loaded into the warehouse.
  completed     not enrolled, and the latest spell that ended before D ended with PABEIGTS (programme completed):
                which programme, where, when.
  left          not enrolled, and the latest spell that ended before D ended otherwise: the reason (classifier
                BEIGU_IEMESLS), the date and the institution; a next enrolment that starts after D is shown.
  not_found     a valid code with no spell starting on or before D (a later first enrolment is shown).
  invalid_code  the code failed a check: empty, format, checksum (legacy codes), impossible birth date.
The latest completion on or before D is given for every found person whatever the status.

Privacy: the raw codes live only in this process's memory (the requester's own data is echoed in the output
file they asked for). DuckDB sees the normalised valid codes only inside an in-memory database (spilling to
disk disabled) to compute the pseudonyms; the warehouse is attached READ_ONLY, so nothing is written to it.
Nothing is logged per person: the command prints counts and timings only.
"""
from __future__ import annotations

import csv
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines import settings
from pipelines.common import personal_codes as pc
from pipelines.common.pseudonymise import pads, sql_expression
from pipelines.persons import io as pio
from pipelines.persons import xlsx

RULE_EMPTY = "personal_code_empty"
DEPARTURES = ("PARCELTS", "IZBRAUCIS", "ATSKAITITS_NESEKMIBA", "MIRIS")
STAY_GAP_DAYS = 92
KIND_RANK = ("AUGSTAKA", "PROFESIONALA", "VIDEJA", "SPECIALA", "PAMATIZGLITIBA", "PIRMSSKOLA")

STATUSES = {  # code: (Latvian label, English label, English meaning)
    "enrolled": ("mācās", "enrolled", "enrolled on the date (main enrolment in the institution/programme columns)"),
    "completed": ("pabeidzis", "completed", "not enrolled; the last spell before the date ended with completion"),
    "left": ("mācības beigtas", "left", "not enrolled; the last spell ended before the date for another reason"),
    "not_found": ("nav atrasts", "not found", "valid code, no enrolment in the registry on or before the date"),
    "invalid_code": ("nederīgs kods", "invalid code", "the code failed a check (see koda_kluda)"),
}
CODE_ERRORS = {  # rule: (Latvian, English)
    RULE_EMPTY: ("tukšs kods", "empty code"),
    pc.RULE_FORMAT: ("nepareizs formāts (jābūt DDMMGG-CNNNK vai 32NNNN-NNNNN)",
                     "wrong format (must be DDMMYY-CNNNK or 32NNNN-NNNNN)"),
    pc.RULE_CHECKSUM: ("nepareizs kontrolcipars", "wrong check digit"),
    pc.RULE_DATE: ("neiespējams dzimšanas datums kodā", "impossible birth date in the code"),
}
CODE_FORMATS = {"legacy": "DDMMGG-CNNNK", "new": "32NNNN-NNNNN"}

# The output: (column, Latvian title, English title, English description)
COLUMNS = [
    ("rinda", "Rinda", "Row", "row of the input file (1 = first line / Excel row 1)"),
    ("personas_kods", "Personas kods", "Personal code", "the code exactly as given in the input"),
    ("statuss", "Statuss", "Status", "mācās | pabeidzis | mācības beigtas | nav atrasts | nederīgs kods"),
    ("statusa_kods", "Statusa kods", "Status code", "enrolled | completed | left | not_found | invalid_code"),
    ("koda_kluda", "Koda kļūda", "Code error", "for invalid codes: which check failed"),
    ("koda_formats", "Koda formāts", "Code format", "DDMMGG-CNNNK (legacy, with birth date) or 32NNNN-NNNNN (since 2017)"),
    ("iestades_reg_nr", "Iestādes reģ. nr.", "Institution reg. no.", "enrolled: the main institution"),
    ("iestades_nosaukums", "Iestādes nosaukums", "Institution name", "enrolled: its name in that school year"),
    ("programmas_kods", "Programmas kods", "Programme code", "enrolled: the programme"),
    ("programmas_nosaukums", "Programmas nosaukums", "Programme name", ""),
    ("programmas_veids", "Programmas veids", "Programme kind", "PIRMSSKOLA, PAMATIZGLITIBA, SPECIALA, VIDEJA, PROFESIONALA, AUGSTAKA, ..."),
    ("klase", "Klase", "Grade", "general education grade 1-12"),
    ("kurss", "Kurss", "Course (year of study)", "vocational / higher education"),
    ("macas_kops", "Mācās kopš", "Since", "start of the continuous stay at the main institution"),
    ("macibu_vietu_skaits", "Mācību vietu skaits", "Number of enrolments", "enrolments active on the date"),
    ("citas_macibu_vietas", "Citas mācību vietas", "Other enrolments",
     "the other active enrolments: reg. no. name; programme; grade/course; since (separated by ' | ')"),
    ("pabeigta_programma_kods", "Pabeigtā programma (kods)", "Completed programme (code)",
     "latest completion on or before the date (any status)"),
    ("pabeigta_programma_nosaukums", "Pabeigtā programma", "Completed programme (name)", ""),
    ("pabeigsanas_datums", "Pabeigšanas datums", "Completion date", ""),
    ("pabeigsanas_iestades_reg_nr", "Pabeigšanas iestādes reģ. nr.", "Completion institution reg. no.", ""),
    ("pabeigsanas_iestades_nosaukums", "Pabeigšanas iestāde", "Completion institution name", ""),
    ("beigu_datums", "Mācību beigu datums", "End date", "completed / left: end of the latest spell before the date"),
    ("beigu_iemesla_kods", "Beigu iemesla kods", "End reason code", "classifier BEIGU_IEMESLS"),
    ("beigu_iemesls", "Beigu iemesls", "End reason", "its Latvian name"),
    ("beigu_iestades_reg_nr", "Pēdējās iestādes reģ. nr.", "Last institution reg. no.", "completed / left"),
    ("beigu_iestades_nosaukums", "Pēdējā iestāde", "Last institution name", ""),
    ("nakamo_macibu_sakums", "Nākamo mācību sākums", "Next enrolment starts",
     "not enrolled: the first enrolment starting after the date, if the registry has one"),
    ("parbaudes_datums", "Pārbaudes datums", "Date checked", "the date the status refers to"),
]
OUTPUT_COLUMNS = [c[0] for c in COLUMNS]


@dataclass
class CheckResult:
    frame: pl.DataFrame                       # the output rows (held in memory only)
    out_path: Path | None
    date: dt.date
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    coverage: tuple[dt.date | None, dt.date | None] = (None, None)

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


def _reason_names() -> dict[str, str]:
    with open(settings.SEEDS_DIR / "viis_classifiers.csv", encoding="utf-8") as f:
        return {r["code"]: r["name_lv"] for r in csv.DictReader(f) if r["classifier"] == "BEIGU_IEMESLS"}


def validate(codes: pl.DataFrame) -> pl.DataFrame:
    """codes: (…, code_given) -> + code (normalised), code_error (rule or null), code_format."""
    # ten bare digits: a legacy code whose leading zero a spreadsheet dropped (a number cell, or a CSV saved
    # from one); any other damage still fails the checks below
    given = pl.col("code_given").str.strip_chars()
    norm = pc.normalise(pl.when(given.str.contains(r"^[0-9]{10}$")).then(pl.lit("0") + given).otherwise(given))
    return codes.with_columns(norm.alias("code")).with_columns(
        pl.when(pl.col("code").is_null() | (pl.col("code") == "")).then(pl.lit(RULE_EMPTY))
        .otherwise(pc.validation_error(pl.col("code"))).alias("code_error"),
        pl.when(pl.col("code").str.contains(pc.NEW_PATTERN)).then(pl.lit("new"))
        .when(pl.col("code").str.contains(pc.LEGACY_PATTERN)).then(pl.lit("legacy"))
        .alias("code_format"),
    )


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB (no spilling to disk) with the warehouse attached READ_ONLY as `wh`."""
    con = duckdb.connect(":memory:")
    con.execute("SET temp_directory = ''")          # nothing this session holds may be spilled to disk
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f"ATTACH '{str(warehouse).replace(chr(39), chr(39) * 2)}' AS wh (READ_ONLY)")
    except duckdb.Error as e:
        con.close()
        raise RuntimeError(f"cannot open the warehouse {warehouse} read-only: {e}") from None
    return con


def _no_params_sql(sql: str, values: dict[str, str]) -> str:
    """Put SQL literals in place of $name. Binding Python parameters makes the duckdb module import pandas and
    pyarrow (seconds on a busy machine, more than the whole check); the values here are generated, never free
    text: hex of the key pads, an ISO date, and validated codes (digits and one hyphen)."""
    for name, literal in values.items():
        sql = sql.replace(f"${name}", literal)
    return sql


def pseudonymise_into(con: duckdb.DuckDBPyConnection, valid: pl.DataFrame, key: bytes) -> None:
    """valid: (i, code) of VALIDATED codes -> TEMP TABLE inp(i, learner_id) in the in-memory database.

    The codes reach DuckDB as one string literal (no Python parameter binding, no Arrow: see _no_params_sql);
    only the pseudonyms are kept in the table."""
    if valid.filter(~pl.col("code").str.contains(r"^[0-9]{6}-[0-9]{5}$")).height:
        raise ValueError("only validated codes may be pseudonymised")  # also guards the literal below
    ipad, opad = pads(key)
    ids = valid["i"].cast(pl.Utf8).str.join(",").item() if valid.height else ""
    codes = valid["code"].str.join(",").item() if valid.height else ""
    expr = _no_params_sql(sql_expression("code"), {"ipad": f"unhex('{ipad.hex()}')", "opad": f"unhex('{opad.hex()}')"})
    con.execute("CREATE OR REPLACE TEMP TABLE inp AS SELECT i, " + expr + " AS learner_id FROM ("
                f"SELECT TRY_CAST(unnest(string_split('{ids}', ',')) AS BIGINT) AS i, unnest(string_split('{codes}', ',')) AS code) "
                "WHERE code <> ''")


def _kind_rank_sql(col: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {n}" for n, k in enumerate(KIND_RANK, start=1))
    return f"CASE {col} {whens} ELSE {len(KIND_RANK) + 1} END"


MATCH_SQL = f"""
WITH flagged AS (   -- a new stay at the institution begins: first spell, after a departure, or after a long gap
    SELECT *,
        CASE WHEN lag(start_date) OVER w IS NULL THEN 1
             WHEN lag(end_reason) OVER w IN {DEPARTURES} THEN 1
             WHEN lag(end_date) OVER w IS NULL THEN 0
             WHEN start_date > lag(end_date) OVER w + {STAY_GAP_DAYS} THEN 1
             ELSE 0 END AS new_stay
    FROM sp
    WINDOW w AS (PARTITION BY pid, institution_id ORDER BY start_date, end_date NULLS LAST, programme_code)
),
spells AS (    -- since = the start of the current stay (stay starts ascend, so a running max finds it)
    SELECT f.*, i.institution_name, p.programme_name,
           max(CASE WHEN new_stay = 1 THEN start_date END) OVER (
               PARTITION BY pid, institution_id ORDER BY start_date, end_date NULLS LAST, programme_code
               ROWS UNBOUNDED PRECEDING) AS since
    FROM flagged AS f
    LEFT JOIN wh.marts.dim_institutions AS i USING (school_year, institution_id)
    LEFT JOIN wh.marts.dim_programmes AS p USING (programme_code)
),
act AS (       -- active on the date, ranked: the main enrolment first
    SELECT *, row_number() OVER (PARTITION BY pid
                                 ORDER BY kind_rank, since, start_date, institution_id, programme_code) AS k
    FROM spells WHERE start_date <= $d AND (end_date IS NULL OR end_date >= $d)
),
act_agg AS (
    SELECT pid, count(*) AS n_active,
           any_value({{'institution_id': institution_id, 'institution_name': institution_name,
                      'programme_code': programme_code, 'programme_name': programme_name,
                      'programme_kind': programme_kind, 'grade': grade, 'course': course, 'since': since}})
               FILTER (WHERE k = 1) AS m,
           string_agg(concat_ws('; ', institution_id || coalesce(' ' || institution_name, ''),
                                programme_code || coalesce(' ' || programme_name, ''),
                                CASE WHEN grade IS NOT NULL THEN grade || '. klase'
                                     WHEN course IS NOT NULL THEN course || '. kurss' END,
                                'kopš ' || strftime(since, '%Y-%m-%d')), ' | ' ORDER BY k)
               FILTER (WHERE k > 1) AS others
    FROM act GROUP BY pid
),
per_person AS (  -- integer sort keys (days since 1970 and ranks packed into one BIGINT): cheap arg_max
    SELECT pid,
        arg_max({{'institution_id': institution_id, 'institution_name': institution_name, 'end_date': end_date,
                 'end_reason': end_reason}},
                epoch_days_end * 100000000 + coalesce(end_reason = 'PABEIGTS', false)::INT * 10000000
                + (9 - kind_rank) * 1000000 + epoch_days_start)
            FILTER (WHERE end_date < $d) AS e,
        arg_max({{'institution_id': institution_id, 'institution_name': institution_name,
                 'programme_code': programme_code, 'programme_name': programme_name, 'end_date': end_date}},
                epoch_days_end * 100000000 + (9 - kind_rank) * 1000000 + epoch_days_start)
            FILTER (WHERE end_reason = 'PABEIGTS' AND end_date <= $d) AS c,
        min(start_date) FILTER (WHERE start_date > $d) AS next_start
    FROM (SELECT *, (end_date - DATE '1970-01-01')::BIGINT AS epoch_days_end,
                    (start_date - DATE '1970-01-01')::BIGINT AS epoch_days_start FROM spells)
    GROUP BY pid
),
res AS (SELECT p.*, a.n_active, a.m, a.others FROM per_person AS p LEFT JOIN act_agg AS a USING (pid))
SELECT
    inp.i,
    CASE WHEN r.n_active > 0 THEN 'enrolled'
         WHEN r.e.end_reason = 'PABEIGTS' THEN 'completed'
         WHEN r.e IS NOT NULL THEN 'left'
         ELSE 'not_found' END AS statusa_kods,
    r.m.institution_id AS iestades_reg_nr, r.m.institution_name AS iestades_nosaukums,
    r.m.programme_code AS programmas_kods, r.m.programme_name AS programmas_nosaukums,
    r.m.programme_kind AS programmas_veids, r.m.grade AS klase, r.m.course AS kurss, r.m.since AS macas_kops,
    CASE WHEN r.n_active > 0 THEN r.n_active END AS macibu_vietu_skaits,
    r.others AS citas_macibu_vietas,
    r.c.programme_code AS pabeigta_programma_kods, r.c.programme_name AS pabeigta_programma_nosaukums,
    r.c.end_date AS pabeigsanas_datums, r.c.institution_id AS pabeigsanas_iestades_reg_nr,
    r.c.institution_name AS pabeigsanas_iestades_nosaukums,
    CASE WHEN coalesce(r.n_active, 0) = 0 THEN r.e.end_date END AS beigu_datums,
    CASE WHEN coalesce(r.n_active, 0) = 0 THEN r.e.end_reason END AS beigu_iemesla_kods,
    CASE WHEN coalesce(r.n_active, 0) = 0 THEN r.e.institution_id END AS beigu_iestades_reg_nr,
    CASE WHEN coalesce(r.n_active, 0) = 0 THEN r.e.institution_name END AS beigu_iestades_nosaukums,
    CASE WHEN coalesce(r.n_active, 0) = 0 THEN r.next_start END AS nakamo_macibu_sakums
FROM inp
JOIN q USING (learner_id)
LEFT JOIN res AS r USING (pid)
"""

# The one scan of the spells: every spell of the requested persons into an in-memory temp table (the scan of
# the learner_id column is the cost that grows with the warehouse; everything after works on these rows only).
SPELLS_SQL = f"""
CREATE OR REPLACE TEMP TABLE q AS
    SELECT learner_id, row_number() OVER () AS pid FROM (SELECT DISTINCT learner_id FROM inp);
CREATE OR REPLACE TEMP TABLE sp AS
    SELECT q.pid, s.school_year, s.institution_id, s.programme_code, s.programme_kind, s.grade, s.course,
           s.start_date, s.end_date, s.end_reason, {_kind_rank_sql('s.programme_kind')} AS kind_rank
    FROM wh.marts.fct_enrolment_spells AS s
    JOIN q ON s.learner_id = q.learner_id;
"""


def coverage(con: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    """First day and last day the warehouse's spells describe (1 Sep of the first school year loaded,
    31 Aug after the last)."""
    lo, hi = con.execute("SELECT min(school_year), max(school_year) FROM wh.marts.fct_enrolment_spells").fetchone()
    if lo is None:
        return None, None
    return dt.date(lo, 9, 1), dt.date(hi + 1, 8, 31)


def match(con: duckdb.DuckDBPyConnection, date: dt.date) -> pl.DataFrame:
    """The matching: one scan of the spells for all requested pseudonyms (SPELLS_SQL), then the statuses of
    every person at once (MATCH_SQL); returns one row per valid input code (column i)."""
    con.execute(SPELLS_SQL)
    rel = con.sql(_no_params_sql(MATCH_SQL, {"d": f"DATE '{date.isoformat()}'"}))
    return pl.DataFrame(rel)  # Arrow C stream straight into Polars (no pyarrow)


def statuses(codes: pl.DataFrame, date: dt.date, warehouse: Path | None = None, key: bytes | None = None,
             timings: dict | None = None) -> tuple[pl.DataFrame, tuple]:
    """codes: (row, code_given) -> the output frame (OUTPUT_COLUMNS), in input order; + coverage."""
    timings = timings if timings is not None else {}
    t = time.perf_counter()
    frame = validate(codes.with_row_index("i").with_columns(pl.col("i").cast(pl.Int64)))
    timings["validate"] = time.perf_counter() - t

    t = time.perf_counter()
    con = connect(Path(warehouse or settings.warehouse_path()))
    try:
        pseudonymise_into(con, frame.filter(pl.col("code_error").is_null()), key or settings.pseudonym_key())
        frame = frame.drop("code")  # the normalised codes are not needed any more
        timings["pseudonymise"] = time.perf_counter() - t
        t = time.perf_counter()
        found = match(con, date)
        cov = coverage(con)
        con.execute("DROP TABLE inp; DROP TABLE q; DROP TABLE sp")
        timings["query"] = time.perf_counter() - t
    finally:
        con.close()

    t = time.perf_counter()
    reasons = _reason_names()
    out = (frame.join(found, on="i", how="left", maintain_order="left").sort("i")
           .with_columns(
               pl.when(pl.col("code_error").is_not_null()).then(pl.lit("invalid_code"))
               .otherwise(pl.col("statusa_kods")).alias("statusa_kods"))
           .with_columns(
               pl.col("statusa_kods").replace_strict({k: v[0] for k, v in STATUSES.items()}, default=None)
               .alias("statuss"),
               pl.col("code_error").replace_strict({k: v[0] for k, v in CODE_ERRORS.items()}, default=None)
               .alias("koda_kluda"),
               pl.col("code_format").replace_strict(CODE_FORMATS, default=None).alias("koda_formats"),
               pl.col("beigu_iemesla_kods").replace_strict(reasons, default=pl.col("beigu_iemesla_kods"))
               .alias("beigu_iemesls"),
               pl.col("row").alias("rinda"), pl.col("code_given").alias("personas_kods"),
               pl.lit(date).alias("parbaudes_datums"),
               pl.col("klase").cast(pl.Int64), pl.col("kurss").cast(pl.Int64),
               pl.col("macibu_vietu_skaits").cast(pl.Int64),
           )
           .select(OUTPUT_COLUMNS))
    timings["assemble"] = time.perf_counter() - t
    return out, cov


def legend_frames(date: dt.date, cov: tuple, counts: dict[str, int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The legend sheet: column meanings (LV/EN), status values, and the run's facts (no personal data)."""
    cols = pl.DataFrame([{"kolonna": c, "nosaukums_lv": lv, "column_en": en, "description_en": d}
                         for c, lv, en, d in COLUMNS])
    facts = [("", "", "", ""), ("Statusi / statuses", "", "", "")]
    facts += [(k, lv, en, d) for k, (lv, en, d) in STATUSES.items()]
    facts += [("", "", "", ""), ("Koda kļūdas / code errors", "", "", "")]
    facts += [(k, lv, en, "") for k, (lv, en) in CODE_ERRORS.items()]
    facts += [("", "", "", ""), ("Pārbaude / this check", "", "", ""),
              ("parbaudes_datums", "Pārbaudes datums", "Date checked", date.isoformat()),
              ("dati_no", "Reģistra dati no", "Registry data from", cov[0].isoformat() if cov[0] else ""),
              ("dati_lidz", "Reģistra dati līdz", "Registry data up to", cov[1].isoformat() if cov[1] else ""),
              ("izveidots", "Izveidots", "Produced at", dt.datetime.now().replace(microsecond=0).isoformat())]
    facts += [(f"skaits_{k}", f"Skaits: {STATUSES[k][0]}", f"Count: {STATUSES[k][1]}", str(n))
              for k, n in counts.items()]
    if cov[1] and date > cov[1]:
        facts.append(("piezime", "Datums ir pēc pēdējiem ielādētajiem datiem: statuss atbilst pēdējiem datiem",
                      "The date is after the latest data loaded: statuses reflect the latest data", ""))
    if cov[0] and date < cov[0]:
        facts.append(("piezime", "Datums ir pirms pirmajiem ielādētajiem datiem",
                      "The date is before the earliest data loaded: persons may show as not found", ""))
    more = pl.DataFrame(facts, schema=["kolonna", "nosaukums_lv", "column_en", "description_en"], orient="row")
    return cols, more


def write_output(out: pl.DataFrame, path: Path, date: dt.date, cov: tuple, counts: dict[str, int]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols, facts = legend_frames(date, cov, counts)
    legend = pl.concat([cols, facts])
    if path.suffix.lower() == ".xlsx":
        widths = {"personas_kods": 14, "statuss": 16, "iestades_nosaukums": 36, "programmas_nosaukums": 36,
                  "citas_macibu_vietas": 50, "pabeigta_programma_nosaukums": 36, "beigu_iemesls": 30,
                  "pabeigsanas_iestades_nosaukums": 30, "beigu_iestades_nosaukums": 30, "koda_kluda": 30}
        xlsx.write_xlsx(path, [
            xlsx.Sheet("Rezultāts", out, widths=widths, text_columns=("personas_kods",), autofilter=True),
            xlsx.Sheet("Leģenda (Legend)", legend,
                       widths={"kolonna": 30, "nosaukums_lv": 40, "column_en": 34, "description_en": 80}),
        ])
    elif path.suffix.lower() == ".csv":
        out.write_csv(path, date_format="%Y-%m-%d")
        legend.write_csv(legend_path(path))
    else:
        raise pio.InputError(f"{path.name}: the output must be .csv or .xlsx")
    return path


def legend_path(csv_path: Path) -> Path:
    """The legend beside a CSV output: <name>.legend.csv."""
    return csv_path.with_name(csv_path.stem + ".legend.csv")


def default_output(input_path: Path, date: dt.date) -> Path:
    suffix = input_path.suffix.lower() if input_path.suffix.lower() in (".csv", ".xlsx") else ".csv"
    return settings.data_dir() / "persons" / f"{input_path.stem}_statuss_{date.isoformat()}{suffix}"


def run_check(input_path: str | Path, date: dt.date, out_path: str | Path | None = None,
              warehouse: Path | None = None, key: bytes | None = None) -> CheckResult:
    """Read, check and write: the whole command. Timings per phase in the result."""
    input_path = Path(input_path)
    out_path = Path(out_path) if out_path else default_output(input_path, date)
    if out_path.suffix.lower() not in (".csv", ".xlsx"):
        raise pio.InputError(f"{out_path.name}: the output must be .csv or .xlsx")
    if out_path.resolve() == input_path.resolve():
        raise pio.InputError("the output would overwrite the input: choose another --out")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    codes = pio.read_codes(input_path)
    timings["read"] = time.perf_counter() - t
    out, cov = statuses(codes, date, warehouse=warehouse, key=key, timings=timings)
    counts = {k: int(out.filter(pl.col("statusa_kods") == k).height) for k in STATUSES}
    t = time.perf_counter()
    write_output(out, out_path, date, cov, counts)
    timings["write"] = time.perf_counter() - t
    return CheckResult(frame=out, out_path=out_path, date=date, timings=timings, counts=counts, coverage=cov)
