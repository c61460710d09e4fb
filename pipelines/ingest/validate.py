"""Contract rules over a whole partition's records -> the loaded frame (typed) and the quarantined frame.

Everything is a Polars expression over whole columns. Each rule yields, per row, the detail of its first
breach (null when kept); a row is quarantined under the first rule it breaks (order of RULES) and all rules it
breaks are listed. The duplicate and overlap rules look only at rows that broke nothing before them, so the
loaded rows have unique keys.

Speed: a single-column rule and the typed value depend on the column's raw value only, and columns repeat
values massively (a person's code on every row, a batch timestamp, a date), so they are evaluated once per
distinct value and joined back as a bit mask of broken rules plus ids. Rows are compared for duplicates through
those ids; the detail strings are built only for the few quarantined rows, with the same expressions.
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
    loaded: pl.DataFrame  # typed stored columns (personal codes pseudonymised), _source_file (as given), _source_line
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


def _column_details(c: Column, year: int, institutions: list[str] | None,
                    classifiers: dict[str, list[str]], table: str = "") -> list[tuple[str, pl.Expr]]:
    """(rule, detail expression) of every single-column rule of column c, in RULES order. Each depends on the
    column's raw value only (with its typed value in '__t_<column>' and, for a personal code, its validation
    error in '__e_<column>')."""
    out: list[tuple[str, pl.Expr]] = []
    future = dt.date(year + 1, 9, 30)
    v, t = value(c.name), pl.col(f"__t_{c.name}")
    present = v.is_not_null()
    if c.required:
        out.append(("missing_value", _detail(~present, c, "required value is empty", show=False)))
    if c.type in ("integer", "double", "boolean") and not c.personal_code:
        out.append(("type_mismatch", _detail(present & t.is_null(), c, f"is not {c.type}")))
    if c.type in ("date", "timestamp"):
        out.append(("invalid_date", _detail(present & t.is_null(), c, f"is not a valid ISO {c.type}")))
    if c.personal_code:
        err = pl.when(present).then(pl.col(f"__e_{c.name}"))
        for rule, text in ((pc.RULE_FORMAT, "not in a personal-code format"),
                           (pc.RULE_DATE, "birth date in the personal code does not exist"),
                           (pc.RULE_CHECKSUM, "personal-code check digit is wrong")):
            out.append((rule, _detail(err == rule, c, text, show=False)))
    codes = c.codes
    if c.classifier:
        if c.classifier not in classifiers:
            raise KeyError(f"classifier {c.classifier} (column {table}.{c.name}) is not in seeds/viis_classifiers.csv")
        codes = tuple(classifiers[c.classifier])
    if codes is not None:
        where = f"classifier {c.classifier}" if c.classifier else "the code list"
        out.append(("unknown_code", _detail(present & ~v.is_in(list(codes)), c, f"is not in {where}")))
    if c.type in ("integer", "double") and (c.min is not None or c.max is not None):
        lo = t < c.min if c.min is not None else pl.lit(False)
        hi = t > c.max if c.max is not None else pl.lit(False)
        rng = f"{_num(c.min) if c.min is not None else ''}..{_num(c.max) if c.max is not None else ''}"
        out.append(("value_out_of_range", _detail(lo | hi, c, f"outside {rng}")))
    if c.pattern and c.type == "varchar":
        out.append(("value_out_of_range", _detail(present & ~t.str.contains(c.pattern), c, f"does not match {c.pattern}")))
    if c.not_future and c.type in ("date", "timestamp"):
        limit = pl.lit(future) if c.type == "date" else pl.lit(dt.datetime(year + 1, 10, 1))
        cond = t > limit if c.type == "date" else t >= limit
        out.append(("future_date", _detail(cond, c, f"is after {future.isoformat()}")))
    if c.references and institutions is not None:
        out.append(("unknown_institution",
                    _detail(present & ~v.is_in(institutions), c, f"is not an institution of {c.references} this year")))
    return out


def _date_order(entity: Entity) -> list[pl.Expr]:
    names = {c.name for c in entity.stored_columns}
    return [pl.when(pl.col(f"__t_{end}") < pl.col(f"__t_{start}")).then(pl.lit(f"{end} is before {start}"))
            for start, end in DATE_PAIRS if start in names and end in names]


def rule_details(entity: Entity, year: int, institutions: list[str] | None,
                 classifiers: dict[str, list[str]]) -> dict[str, list[pl.Expr]]:
    """Per rule, the detail expressions (one per column or pair) for the row-level rules up to
    unknown_institution. Typed values are expected in columns named '__t_<column>'."""
    out: dict[str, list[pl.Expr]] = {r: [] for r in RULES}
    out["malformed_record"].append(pl.col(MALFORMED))
    out["missing_column"].append(pl.col(MISSING_COLUMN))
    for c in entity.stored_columns:
        for rule, expr in _column_details(c, year, institutions, classifiers, entity.table):
            out[rule].append(expr)
    out["date_order"] += _date_order(entity)
    return out


def _code_error(t: pl.Expr) -> pl.Expr:
    return pl.when(t.is_not_null()).then(pc.validation_error(t))


def _first(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.coalesce(exprs) if exprs else pl.lit(None, pl.Utf8)


_ENGINE = "in-memory"  # measured faster than streaming for these joins and order-keeping steps
_BIT = {r: 1 << i for i, r in enumerate(RULES)}
EARLY = [r for r in RULES if r not in ("duplicate_row", "duplicate_key", "overlapping_enrolment")]


def _distinct(frame: pl.DataFrame, c: Column, year: int, institutions: list[str] | None,
              classifiers: dict[str, list[str]], key: bytes, table: str) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """One row per distinct raw value of column c (null included): the typed value, the bit mask of the
    single-column rules it breaks, an id (for exact row comparisons) and, for a personal code, the pseudonym;
    for a personal code also the (string -> pseudonym) map of its raw strings, for the quarantined records.
    Columns repeat values massively (a person's code, a batch timestamp, a date), so this is where the
    per-value work is done."""
    n = c.name
    u = frame.lazy().select(pl.col(n).unique()).with_columns(typed(c).alias(f"__t_{n}"))
    if c.personal_code:
        u = u.with_columns(_code_error(pl.col(f"__t_{n}")).alias(f"__e_{n}"))
    bits = [pl.when(d.is_not_null()).then(pl.lit(_BIT[r], pl.Int32)).otherwise(pl.lit(0, pl.Int32))
            for r, d in _column_details(c, year, institutions, classifiers, table)]
    mask = pl.reduce(lambda a, b: a | b, bits) if bits else pl.lit(0, pl.Int32)
    # ids as UInt32 (a partition has far fewer distinct values): 4 bytes per row and column, not 8
    u = u.with_columns(mask.alias(f"__m_{n}"), pl.int_range(pl.len(), dtype=pl.UInt32).alias(f"__i_{n}"))
    # the same id for raw values with the same typed value (" 4" and "4"): compares typed values for keys
    u = u.with_columns(pl.col(f"__i_{n}").min().over(f"__t_{n}").alias(f"__k_{n}"))
    u = u.drop(f"__e_{n}", strict=False).collect(engine=_ENGINE)
    if c.personal_code:  # pseudonyms of the normalised code (loaded) and of the raw string (quarantine record)
        # the two are nearly always the same string: hash each distinct string once (HMAC is the costly part)
        codes = pl.concat([u.get_column(f"__t_{n}"), u.get_column(n)]).drop_nulls().unique().alias("c").to_frame()
        m = pl.concat([codes, pseudonymise_columns(codes.select(pl.col("c").alias("p")), ["p"], key)], how="horizontal")
        u = u.with_columns(pl.col(f"__t_{n}").replace_strict(m["c"], m["p"], default=None, return_dtype=pl.Utf8)
                           .alias(f"__p_{n}"))
        # the raw string's pseudonym is needed for the few quarantined rows only: not joined to every row
        # (a 64-character string per row: ~0.5 GB at 6 M rows)
        return u, m
    return u, None


def validate(entity: Entity, frame: pl.DataFrame, year: int, key: bytes, institutions: list[str] | None = None,
             classifiers: dict[str, list[str]] | None = None) -> Validated:
    """frame: Utf8 columns for every stored contract column, _source_file, _source_line, _malformed,
    _missing_column, _ord.

    The single-column rules and typed values are computed once per distinct value of each column and joined
    back; row-level work is a bit mask, the cross-column rules, and the details of the (few) bad rows."""
    cols = entity.stored_columns
    classifiers = classifiers or {}
    if not frame[ORD].is_sorted():
        frame = frame.sort(ORD)
    frame = frame.with_columns(pl.col(MISSING_COLUMN).cast(pl.Utf8))
    sizes, parts, codes = {}, [], {}
    for c in cols:
        u, codes[c.name] = _distinct(frame, c, year, institutions, classifiers, key, entity.table)
        sizes[c.name] = u.height
        # one narrow join per column, side by side: a chain of joins would copy every column at each step
        parts.append(frame.lazy().select(c.name).join(u.lazy(), on=c.name, how="left", nulls_equal=True,
                                                      maintain_order="left").drop(c.name))
    lf = pl.concat([frame, *pl.collect_all(parts, engine=_ENGINE)], how="horizontal").lazy()
    mask = pl.reduce(lambda a, b: a | b, [pl.col(f"__m_{c.name}") for c in cols]) if cols else pl.lit(0, pl.Int32)
    mask = mask | pl.when(pl.col(MISSING_COLUMN).is_not_null()).then(_BIT["missing_column"]).otherwise(0)
    for d in _date_order(entity):
        mask = mask | pl.when(d.is_not_null()).then(_BIT["date_order"]).otherwise(0)
    mask = pl.when(pl.col(MALFORMED).is_not_null()).then(pl.lit(_BIT["malformed_record"], pl.Int32)).otherwise(mask)
    lf = _duplicates(entity, lf.with_columns(__ok=mask == 0), sizes)
    bad_rows = ~pl.col("__ok") | pl.col("__dup_row") | pl.col("__dup_key") | pl.col("__r_overlapping_enrolment").is_not_null()
    df = lf.with_columns(__bad=bad_rows).collect(engine=_ENGINE).lazy()
    loaded = df.filter(~pl.col("__bad")).select(
        [(pl.col(f"__p_{c.name}") if c.personal_code else pl.col(f"__t_{c.name}").cast(DTYPES[c.type])).alias(c.name)
         for c in cols] + [pl.col(FILE), pl.col(LINE)]).collect(engine=_ENGINE)
    keep = [c.name for c in cols] + [f"__t_{c.name}" for c in cols] + [
        MALFORMED, MISSING_COLUMN, FILE, LINE, ORD, "__dup_row", "__dup_key", "__r_overlapping_enrolment"]
    bad = df.filter(pl.col("__bad")).select(keep).collect(engine=_ENGINE)
    bad = bad.with_columns(__r_duplicate_row=pl.when("__dup_row").then(pl.lit(DUPLICATE_ROW)),
                           __r_duplicate_key=pl.when("__dup_key").then(pl.lit(duplicate_key_text(entity))))
    # the details of the bad rows only, with the same expressions as a row-by-row evaluation
    bad = bad.with_columns([_code_error(pl.col(f"__t_{c.name}")).alias(f"__e_{c.name}") for c in cols if c.personal_code])
    bad = bad.with_columns([pl.col(c.name).replace_strict(codes[c.name]["c"], codes[c.name]["p"], default=None,
                                                          return_dtype=pl.Utf8).alias(f"__q_{c.name}")
                            for c in cols if c.personal_code])
    details = rule_details(entity, year, institutions, classifiers)
    not_malformed = pl.col(MALFORMED).is_null()
    bad = bad.with_columns(
        [(_first(details[r]) if r == "malformed_record" else pl.when(not_malformed).then(_first(details[r]))).alias(f"__r_{r}")
         for r in EARLY]
    )
    rule_cols = [f"__r_{r}" for r in RULES]
    bad = bad.with_columns(
        rule=pl.coalesce([pl.when(pl.col(f"__r_{r}").is_not_null()).then(pl.lit(r)) for r in RULES]),
        rules=pl.concat_str([pl.when(pl.col(f"__r_{r}").is_not_null()).then(pl.lit(r)) for r in RULES],
                            separator=",", ignore_nulls=True),
        detail=pl.coalesce(rule_cols),
    )
    # the record as read: source field names, raw strings; personal codes as the pseudonym of the raw string
    rec = bad.select([pl.col(f"__q_{c.name}" if c.personal_code else c.name).alias(c.name) for c in cols])
    record = rec.select(pl.struct([pl.col(c.name).alias(c.source) for c in cols]).struct.json_encode().alias("record"))
    quarantined = bad.select(pl.col(FILE).cast(pl.Utf8), pl.col(LINE), "rule", "rules", "detail").with_columns(record["record"])
    return Validated(loaded, quarantined)


DUPLICATE_ROW = "an exact copy of an earlier row"


def duplicate_key_text(entity: Entity) -> str:
    return f"key ({', '.join(entity.key)}) repeats an earlier row with other values"


def _packed(ids: list[str], sizes: list[int]) -> pl.Expr:
    """One Int64 per row from per-column ids (0 <= id < size): equal exactly when every id is equal. A
    struct of the ids when the product of the sizes does not fit."""
    total = 1
    for n in sizes:
        total *= max(n, 1)
    if total >= 2**62:
        return pl.struct([pl.col(i) for i in ids])
    out, mult = pl.lit(0, pl.Int64), 1
    for i, n in zip(ids, sizes):
        out = out + pl.col(i).cast(pl.Int64) * mult
        mult *= max(n, 1)
    return out


def _duplicates(entity: Entity, df: pl.LazyFrame, sizes: dict[str, int]) -> pl.LazyFrame:
    """duplicate_row, duplicate_key and overlapping_enrolment among rows that broke nothing earlier; the
    later row (by file, line) is the one quarantined. df is in ORD order. Rows are compared through the
    per-column ids of their distinct values (raw values for duplicate_row; typed values for the key)."""
    cols = [c.name for c in entity.stored_columns]
    ok = pl.col("__ok")
    row_id = _packed([f"__i_{c}" for c in cols], [sizes[c] for c in cols])
    # rows that are not candidates become null: one group of their own, never read. Flags, not detail strings:
    # a string column costs 16 bytes per row even when null; the details are written for the bad rows only
    first_copy = pl.when(ok).then(row_id).is_first_distinct()
    df = df.with_columns(__dup_row=ok & ~first_copy)
    ok2 = ok & ~pl.col("__dup_row")
    if entity.key:
        key = _packed([f"__k_{k}" for k in entity.key], [sizes[k] for k in entity.key])
        first_key = pl.when(ok2).then(key).is_first_distinct()
        df = df.with_columns(__dup_key=ok2 & ~first_key)
    else:
        df = df.with_columns(__dup_key=pl.lit(False))
    df = df.with_columns(__r_overlapping_enrolment=pl.lit(None, pl.Utf8))
    if entity.feed == "viis" and entity.name == "enrolments":
        df = _overlaps(df)
    return df


def _overlaps(df: pl.LazyFrame) -> pl.LazyFrame:
    """Two general-education spells (klase set) of one person in different institutions whose date ranges
    overlap (end inclusive, null end = open): the later start (tie: larger reg nr) is quarantined."""
    cand = df.filter(pl.col("__ok") & ~pl.col("__dup_row") & ~pl.col("__dup_key")
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
    return df.join(hit, on=ORD, how="left", maintain_order="left").with_columns(__r_overlapping_enrolment=pl.col("__ov")).drop("__ov")
