"""Contract rules over a whole partition's records -> the loaded frame (typed) and the quarantined frame.

Everything is a Polars expression over whole columns. Each rule yields, per row, the detail of its first
breach (null when kept); a row is quarantined under the first rule it breaks (order of RULES) and all rules it
breaks are listed. The duplicate and overlap rules look only at rows that broke nothing before them, so the
loaded rows have unique keys.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from pipelines.common import personal_codes as pc
from pipelines.common.contracts import Column, Entity
from pipelines.common.pseudonymise import pseudonymise_columns
from pipelines.ingest.readers.base import LINE, MALFORMED

RULES = (
    "malformed_record", "missing_column", "missing_value", "type_mismatch", "invalid_date",
    "personal_code_format", "personal_code_date", "personal_code_checksum", "unknown_code",
    "value_out_of_range", "future_date", "date_order", "unknown_institution", "duplicate_row",
    "duplicate_key", "overlapping_enrolment",
)
FILE = "_source_file"
ORD = "_ord"  # order of records in the partition: (file, position in file)
MISSING_COLUMN = "_missing_column"  # file-level: detail naming the required columns the file lacks
DATE_PAIRS = (("sakuma_datums", "beigu_datums"), ("registracijas_datums", "izslegsanas_datums"), ("start", "end"))
BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "jā": True, "nē": False, "ja": True, "ne": False}
DTYPES = {"varchar": pl.Utf8, "integer": pl.Int64, "double": pl.Float64, "date": pl.Date,
          "timestamp": pl.Datetime("us"), "boolean": pl.Boolean}
_TS = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?Z?$"


@dataclass
class Validated:
    loaded: pl.DataFrame  # typed stored columns (personal codes pseudonymised), _source_file, _source_line
    quarantined: pl.DataFrame  # _source_file, _source_line, rule, rules, detail, record


def value(name: str) -> pl.Expr:
    """The trimmed value; empty -> null."""
    s = pl.col(name).str.strip_chars()
    return pl.when(s != "").then(s)


def typed(c: Column) -> pl.Expr:
    v = value(c.name)
    if c.personal_code:
        return pc.normalise(v)
    if c.type == "varchar":
        return v
    if c.type == "integer":
        return v.cast(pl.Int64, strict=False)
    if c.type == "double":
        d = v.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        return pl.when(d.is_finite()).then(d)
    if c.type == "boolean":
        return v.str.to_lowercase().replace_strict(BOOLEANS, default=None, return_dtype=pl.Boolean)
    if c.type == "date":
        return pl.when(v.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).then(v.str.to_date("%Y-%m-%d", strict=False))
    if c.type == "timestamp":
        t = v.str.strip_suffix("Z").str.replace("T", " ", literal=True)
        parsed = pl.coalesce(
            t.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
            t.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False),
            t.str.to_datetime("%Y-%m-%d %H:%M", time_unit="us", strict=False),
        )
        return pl.when(v.str.contains(_TS)).then(parsed)
    raise ValueError(c.type)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _shown(c: Column) -> pl.Expr:
    """The value as quoted in a detail; a personal code is never repeated there."""
    return pl.lit("(personal code)") if c.personal_code else pl.lit('"') + pl.col(c.name) + pl.lit('"')


def _detail(cond: pl.Expr, c: Column, text: str, show: bool = True) -> pl.Expr:
    prefix = pl.lit(f"column {c.name}: ")
    if show:
        return pl.when(cond).then(pl.concat_str([prefix, pl.lit("value "), _shown(c), pl.lit(" " + text)]))
    return pl.when(cond).then(prefix + pl.lit(text))


def rule_details(entity: Entity, year: int, institutions: list[str] | None,
                 classifiers: dict[str, list[str]]) -> dict[str, list[pl.Expr]]:
    """Per rule, the detail expressions (one per column or pair) for the row-level rules up to
    unknown_institution. Typed values are expected in columns named '__t_<column>'."""
    out: dict[str, list[pl.Expr]] = {r: [] for r in RULES}
    out["malformed_record"].append(pl.col(MALFORMED))
    out["missing_column"].append(pl.col(MISSING_COLUMN))
    future = dt.date(year + 1, 9, 30)
    for c in entity.stored_columns:
        v, t = value(c.name), pl.col(f"__t_{c.name}")
        present = v.is_not_null()
        if c.required:
            out["missing_value"].append(_detail(~present, c, "required value is empty", show=False))
        if c.type in ("integer", "double", "boolean") and not c.personal_code:
            out["type_mismatch"].append(_detail(present & t.is_null(), c, f"is not {c.type}"))
        if c.type in ("date", "timestamp"):
            out["invalid_date"].append(_detail(present & t.is_null(), c, f"is not a valid ISO {c.type}"))
        if c.personal_code:
            err = pl.when(present).then(pc.validation_error(t))
            for rule, text in ((pc.RULE_FORMAT, "not in a personal-code format"),
                               (pc.RULE_DATE, "birth date in the personal code does not exist"),
                               (pc.RULE_CHECKSUM, "personal-code check digit is wrong")):
                out[rule].append(_detail(err == rule, c, text, show=False))
        codes = c.codes
        if c.classifier:
            if c.classifier not in classifiers:
                raise KeyError(f"classifier {c.classifier} (column {entity.table}.{c.name}) is not in seeds/viis_classifiers.csv")
            codes = tuple(classifiers[c.classifier])
        if codes is not None:
            where = f"classifier {c.classifier}" if c.classifier else "the code list"
            out["unknown_code"].append(_detail(present & ~v.is_in(list(codes)), c, f"is not in {where}"))
        if c.type in ("integer", "double") and (c.min is not None or c.max is not None):
            lo = t < c.min if c.min is not None else pl.lit(False)
            hi = t > c.max if c.max is not None else pl.lit(False)
            rng = f"{_num(c.min) if c.min is not None else ''}..{_num(c.max) if c.max is not None else ''}"
            out["value_out_of_range"].append(_detail(lo | hi, c, f"outside {rng}"))
        if c.pattern and c.type == "varchar":
            out["value_out_of_range"].append(_detail(present & ~t.str.contains(c.pattern), c, f"does not match {c.pattern}"))
        if c.not_future and c.type in ("date", "timestamp"):
            limit = pl.lit(future) if c.type == "date" else pl.lit(dt.datetime(year + 1, 10, 1))
            cond = t > limit if c.type == "date" else t >= limit
            out["future_date"].append(_detail(cond, c, f"is after {future.isoformat()}"))
        if c.references and institutions is not None:
            out["unknown_institution"].append(
                _detail(present & ~v.is_in(institutions), c, f"is not an institution of {c.references} this year"))
    names = {c.name for c in entity.stored_columns}
    for start, end in DATE_PAIRS:
        if start in names and end in names:
            cond = pl.col(f"__t_{end}") < pl.col(f"__t_{start}")
            out["date_order"].append(pl.when(cond).then(pl.lit(f"{end} is before {start}")))
    return out


def _first(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.coalesce(exprs) if exprs else pl.lit(None, pl.Utf8)


def validate(entity: Entity, frame: pl.DataFrame, year: int, key: bytes, institutions: list[str] | None = None,
             classifiers: dict[str, list[str]] | None = None) -> Validated:
    """frame: Utf8 columns for every stored contract column, _source_file, _source_line, _malformed,
    _missing_column, _ord."""
    cols = entity.stored_columns
    df = frame.with_columns(
        [pl.col(MISSING_COLUMN).cast(pl.Utf8)]
        + [typed(c).alias(f"__t_{c.name}") for c in cols]
    )
    details = rule_details(entity, year, institutions, classifiers or {})
    early = [r for r in RULES if r not in ("duplicate_row", "duplicate_key", "overlapping_enrolment")]
    not_malformed = pl.col(MALFORMED).is_null()
    df = df.with_columns(
        [(_first(details[r]) if r == "malformed_record" else pl.when(not_malformed).then(_first(details[r]))).alias(f"__r_{r}")
         for r in early]
    )
    df = df.with_columns(__ok=pl.all_horizontal([pl.col(f"__r_{r}").is_null() for r in early]))
    df = _duplicates(entity, df)
    rule_cols = [f"__r_{r}" for r in RULES]
    df = df.with_columns(
        rule=pl.coalesce([pl.when(pl.col(f"__r_{r}").is_not_null()).then(pl.lit(r)) for r in RULES]),
        rules=pl.concat_str([pl.when(pl.col(f"__r_{r}").is_not_null()).then(pl.lit(r)) for r in RULES],
                            separator=",", ignore_nulls=True),
        detail=pl.coalesce(rule_cols),
    ).sort(ORD)
    bad = df.filter(pl.col("rule").is_not_null())
    good = df.filter(pl.col("rule").is_null())
    loaded = good.select([pl.col(f"__t_{c.name}").cast(DTYPES[c.type] if not c.personal_code else pl.Utf8).alias(c.name)
                          for c in cols] + [pl.col(FILE), pl.col(LINE)])
    loaded = pseudonymise_columns(loaded, [c.name for c in cols if c.personal_code], key)
    # the record as read: source field names, raw strings; personal codes as the pseudonym of the raw string
    pcs = [c.name for c in cols if c.personal_code]
    rec = pseudonymise_columns(bad.select([pl.col(c.name) for c in cols] + [pl.col(ORD)]), pcs, key)
    record = rec.select(pl.struct([pl.col(c.name).alias(c.source) for c in cols]).struct.json_encode().alias("record"))
    quarantined = bad.select(pl.col(FILE), pl.col(LINE), "rule", "rules", "detail").with_columns(record["record"])
    return Validated(loaded, quarantined)


def _duplicates(entity: Entity, df: pl.DataFrame) -> pl.DataFrame:
    """duplicate_row, duplicate_key and overlapping_enrolment among rows that broke nothing earlier; the
    later row (by file, line) is the one quarantined."""
    cols = [c.name for c in entity.stored_columns]
    ok = pl.col("__ok")
    df = df.sort(ORD)
    first_copy = pl.struct(cols).is_first_distinct().over(ok)  # partitioned by ok: candidates among themselves
    df = df.with_columns(__r_duplicate_row=pl.when(ok & ~first_copy).then(pl.lit("an exact copy of an earlier row")))
    ok2 = ok & pl.col("__r_duplicate_row").is_null()
    if entity.key:
        key = pl.struct([pl.col(f"__t_{k}") for k in entity.key])
        first_key = key.is_first_distinct().over(ok2)
        df = df.with_columns(__r_duplicate_key=pl.when(ok2 & ~first_key).then(
            pl.lit(f"key ({', '.join(entity.key)}) repeats an earlier row with other values")))
    else:
        df = df.with_columns(__r_duplicate_key=pl.lit(None, pl.Utf8))
    df = df.with_columns(__r_overlapping_enrolment=pl.lit(None, pl.Utf8))
    if entity.feed == "viis" and entity.name == "enrolments":
        df = _overlaps(df)
    return df


def _overlaps(df: pl.DataFrame) -> pl.DataFrame:
    """Two general-education spells (klase set) of one person in different institutions whose date ranges
    overlap (end inclusive, null end = open): the later start (tie: larger reg nr) is quarantined."""
    cand = df.filter(pl.col("__ok") & pl.col("__r_duplicate_row").is_null() & pl.col("__r_duplicate_key").is_null()
                     & pl.col("__t_klase").is_not_null())
    spells = cand.select(
        pl.col(ORD), p=pl.col("__t_personas_kods"), reg=pl.col("__t_iestades_reg_nr"),
        s=pl.col("__t_sakuma_datums"), e=pl.col("__t_beigu_datums").fill_null(dt.date(9999, 12, 31)),
    )
    pairs = spells.join(spells, on="p", suffix="_o").filter(
        (pl.col("reg") != pl.col("reg_o")) & (pl.col("s") <= pl.col("e_o")) & (pl.col("s_o") <= pl.col("e"))
        & ((pl.col("s") > pl.col("s_o")) | ((pl.col("s") == pl.col("s_o")) & (pl.col("reg") > pl.col("reg_o"))))
    )
    hit = pairs.sort([ORD, "s_o", "reg_o"]).group_by(ORD, maintain_order=True).agg(
        pl.format("overlaps the enrolment at {} from {}", pl.col("reg_o"), pl.col("s_o")).first().alias("__ov")
    )
    return df.join(hit, on=ORD, how="left").with_columns(__r_overlapping_enrolment=pl.col("__ov")).drop("__ov")
