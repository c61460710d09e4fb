"""Realistic defects, injected into the Docs before they become bytes, and the manifest that says where each
one is and which rule the ingest must quarantine it under.

Each row defect breaks exactly ONE rule, and that rule is the first one the row breaks in the ingest's order
(malformed_record, missing_column, missing_value, type_mismatch, invalid_date, personal_code_format,
personal_code_date, personal_code_checksum, unknown_code, value_out_of_range, future_date, date_order,
unknown_institution, duplicate_row, duplicate_key, overlapping_enrolment). Rows given a defect are distinct,
so a defect never lands on the source row of a duplicate. File defects are applied last, on the rendered
lines, and line numbers are read from the final lines.

Placement: every kind is pending at the start and placed in the first file that can hold it (so each kind
appears at least once whatever the rate), then each file gets Binomial(rows, rate) more row defects of the
kinds it can hold. File kinds are placed once in every third year (and in the first year)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.common.personal_codes import LEGACY_PATTERN
from pipelines.generator.writers.base import CUT, DEFECT, PARENT, Doc, with_meta

LINED = ["row", "discrepancy"]  # manifest levels whose line is read from the rendered file
MANIFEST_COLUMNS = ["defect_id", "kind", "feed", "entity", "file", "line", "level", "rule", "detail"]
SCHEMA = {"defect_id": pl.Utf8, "kind": pl.Utf8, "feed": pl.Utf8, "entity": pl.Utf8, "file": pl.Utf8,
          "line": pl.Int64, "level": pl.Utf8, "rule": pl.Utf8, "detail": pl.Utf8}


@dataclass(frozen=True)
class RowKind:
    kind: str
    rule: str
    feed: str
    entity: str
    column: str
    op: str  # pc_checksum | pc_format | pc_date | set | null | dup_row | dup_key | cut | unknown_inst | before | double
    value: object = None  # set: str or callable(year) -> str; dup_key: replacement mapping; before: start column


def _y(fmt: str):
    return lambda year: fmt.format(y1=year + 1, y2=year + 2)


MARK_SWAP = {**{str(i): str(i % 10 + 1) for i in range(1, 11)}, "nv": "5", "i": "ni", "ni": "i", "S": "T",
             "T": "A", "A": "P", "P": "A"}
MARK_SWAP_B = {**{str(i): str(i % 10 + 1) for i in range(1, 11)}, "NA": "5", "PASS": "FAIL", "FAIL": "PASS",
               "STARTED": "CONTINUING", "CONTINUING": "ACHIEVED", "ACHIEVED": "PROFICIENT", "PROFICIENT": "ACHIEVED"}
REASON_SWAP = {"S": "C", "C": "N", "N": "S"}

VA_G, VA_A, VA_L = ("vendor_a", "grades"), ("vendor_a", "absences"), ("vendor_a", "planned_lessons")
VB_G, VB_A, VB_L = ("vendor_b", "grades"), ("vendor_b", "attendance"), ("vendor_b", "planned_lessons")


def _pc_kinds(feed: str, entity: str, col: str) -> list[RowKind]:
    return [RowKind("invalid_checksum", "personal_code_checksum", feed, entity, col, "pc_checksum"),
            RowKind("malformed_code", "personal_code_format", feed, entity, col, "pc_format"),
            RowKind("impossible_birth_date_in_code", "personal_code_date", feed, entity, col, "pc_date")]


ROW_KINDS: list[RowKind] = [
    # vendor A
    *_pc_kinds(*VA_G, "Personas kods"),
    RowKind("grade_out_of_range", "unknown_code", *VA_G, "Vērtējums", "set", "11"),
    RowKind("unknown_classifier_code", "unknown_code", *VA_G, "Priekšmets", "set", "ASTR"),
    RowKind("missing_value", "missing_value", *VA_G, "Klase", "null"),
    RowKind("unknown_institution", "unknown_institution", *VA_G, "Iestādes reģ. nr.", "unknown_inst"),
    RowKind("duplicate_row", "duplicate_row", *VA_G, "", "dup_row"),
    RowKind("duplicate_key", "duplicate_key", *VA_G, "Vērtējums", "dup_key", MARK_SWAP),
    RowKind("malformed_record", "malformed_record", *VA_G, "", "cut"),
    RowKind("future_date", "future_date", *VA_G, "Iesniegts", "set", _y("{y2}-02-01 10:15:00")),
    *_pc_kinds(*VA_A, "Personas kods"),
    RowKind("type_mismatch", "type_mismatch", *VA_A, "Stunda", "set", "x"),
    RowKind("impossible_date", "invalid_date", *VA_A, "Datums", "set", _y("{y1}-02-30")),
    RowKind("future_date", "future_date", *VA_A, "Datums", "set", _y("{y2}-03-10")),
    RowKind("unknown_classifier_code", "unknown_code", *VA_A, "Iemesls", "set", "X"),
    RowKind("missing_value", "missing_value", *VA_A, "Iemesls", "null"),
    RowKind("duplicate_row", "duplicate_row", *VA_A, "", "dup_row"),
    RowKind("duplicate_key", "duplicate_key", *VA_A, "Iemesls", "dup_key", REASON_SWAP),
    RowKind("malformed_record", "malformed_record", *VA_A, "", "cut"),
    RowKind("lessons_out_of_range", "value_out_of_range", *VA_L, "Plānotās stundas", "set", "300"),
    RowKind("type_mismatch", "type_mismatch", *VA_L, "Plānotās stundas", "set", "x"),
    RowKind("duplicate_row", "duplicate_row", *VA_L, "", "dup_row"),
    # vendor B
    *_pc_kinds(*VB_G, "student_code"),
    RowKind("grade_out_of_range", "unknown_code", *VB_G, "mark", "set", "0"),
    RowKind("unknown_classifier_code", "unknown_code", *VB_G, "subject", "set", "astronomy"),
    RowKind("missing_value", "missing_value", *VB_G, "class_name", "null"),
    RowKind("unknown_institution", "unknown_institution", *VB_G, "school_id", "unknown_inst"),
    RowKind("duplicate_row", "duplicate_row", *VB_G, "", "dup_row"),
    RowKind("duplicate_key", "duplicate_key", *VB_G, "mark", "dup_key", MARK_SWAP_B),
    RowKind("type_mismatch", "type_mismatch", *VB_A, "lessons_missed", "set", "x"),
    RowKind("impossible_date", "invalid_date", *VB_A, "date", "set", _y("{y1}-04-31")),
    RowKind("future_date", "future_date", *VB_A, "date", "set", _y("{y2}-01-20")),
    RowKind("unknown_classifier_code", "unknown_code", *VB_A, "reason", "set", "holiday"),
    RowKind("duplicate_row", "duplicate_row", *VB_A, "", "dup_row"),
    RowKind("lessons_out_of_range", "value_out_of_range", *VB_L, "lessons_planned", "set", "999"),
    # exams
    *_pc_kinds("exams", "results", "personas_kods"),
    RowKind("percent_out_of_range", "value_out_of_range", "exams", "results", "rezultats_procenti", "set", "104.5"),
    RowKind("impossible_date", "invalid_date", "exams", "results", "datums", "set", _y("{y1}-06-31")),
    RowKind("future_date", "future_date", "exams", "results", "datums", "set", _y("{y2}-05-20")),
    RowKind("unknown_classifier_code", "unknown_code", "exams", "results", "eksamens", "set", "LAT9"),
    RowKind("missing_value", "missing_value", "exams", "results", "limenis", "null"),
    RowKind("unknown_institution", "unknown_institution", "exams", "results", "iestades_reg_nr", "unknown_inst"),
    RowKind("duplicate_row", "duplicate_row", "exams", "results", "", "dup_row"),
    RowKind("malformed_record", "malformed_record", "exams", "results", "", "cut"),
    # nva
    *_pc_kinds("nva", "unemployed", "personas_kods"),
    RowKind("end_before_start", "date_order", "nva", "unemployed", "izslegsanas_datums", "before", "registracijas_datums"),
    RowKind("impossible_date", "invalid_date", "nva", "unemployed", "registracijas_datums", "set", _y("{y1}-02-30")),
    RowKind("missing_value", "missing_value", "nva", "unemployed", "registracijas_datums", "null"),
    RowKind("duplicate_row", "duplicate_row", "nva", "unemployed", "", "dup_row"),
    RowKind("malformed_record", "malformed_record", "nva", "unemployed", "", "cut"),
    # csp graduate monitoring
    *_pc_kinds("csp", "graduate_outcomes", "personas_kods"),
    RowKind("type_mismatch", "type_mismatch", "csp", "graduate_outcomes", "nodarbinats", "set", "varbūt"),
    RowKind("duplicate_row", "duplicate_row", "csp", "graduate_outcomes", "", "dup_row"),
    # viis extract
    RowKind("end_before_start", "date_order", "viis", "enrolments", "beiguDatums", "before", "sakumaDatums"),
    RowKind("double_enrolment", "overlapping_enrolment", "viis", "enrolments", "", "double"),
    RowKind("unknown_classifier_code", "unknown_code", "viis", "enrolments", "beiguIemesls", "set", "NEZINAMS"),
    RowKind("unknown_institution", "unknown_institution", "viis", "enrolments", "iestadesRegNr", "unknown_inst"),
    RowKind("missing_value", "missing_value", "viis", "enrolments", "programmasKods", "null"),
    RowKind("fte_out_of_range", "value_out_of_range", "viis", "staff_posts", "likmes", "set", "3.5"),
    RowKind("unknown_classifier_code", "unknown_code", "viis", "staff_posts", "amataKods", "set", "ASTROLOGS"),
    RowKind("future_date", "future_date", "viis", "staff_posts", "sakumaDatums", "set", _y("{y2}-01-01")),
    RowKind("impossible_date", "invalid_date", "viis", "learners", "dzimsanasDatums", "set", "2012-13-01"),
]
# note: the 2012-13-01 birth date is a month-13 date: invalid_date (the code itself stays valid)

FILE_KINDS = {  # kind -> (rule, eligible (feed, entity) in order of preference)
    "truncated_file": ("truncated_file", [VB_A, VA_A, ("exams", "results")]),
    "wrong_encoding": ("wrong_encoding", [VA_G, VA_A, VA_L]),
    "bom": ("bom", [("exams", "results"), ("nva", "unemployed")]),
    "blank_lines": ("blank_lines", [("exams", "results"), VA_L]),
    "renamed_column": ("renamed_column", [VA_A, VA_G, VA_L]),
    # small files only: every row of the file goes into the manifest
    "missing_column": ("missing_column", [("nva", "unemployed")]),
}
RENAMES = {"Personas kods": "Pers. kods"}
DROP_FIELD = {("nva", "unemployed"): "registracijas_datums", ("csp", "graduate_outcomes"): "nodarbinats"}


@dataclass
class Defects:
    """The running state of one generation: rng, ids, what is still pending, and the manifest so far."""
    seed: int
    rate: float
    years: list[int]
    known_regs: set[str]
    rng: np.random.Generator = None  # type: ignore[assignment]
    counter: int = 0
    pending_rows: list[int] = field(default_factory=list)
    pending_files: list[str] = field(default_factory=list)
    manifest: list[pl.DataFrame] = field(default_factory=list)
    waiting: dict[str, list[pl.DataFrame]] = field(default_factory=dict)  # file -> manifest rows awaiting lines

    def __post_init__(self):
        self.rng = np.random.default_rng([self.seed, 9001])
        self.pending_rows = list(range(len(ROW_KINDS)))

    def start_year(self, year: int) -> None:
        i = self.years.index(year)
        for k, name in enumerate(FILE_KINDS):
            if (i + k) % 3 == 0 or i == 0:
                if name not in self.pending_files:
                    self.pending_files.append(name)

    def ids(self, n: int) -> list[str]:
        out = [f"D{self.counter + i + 1:07d}" for i in range(n)]
        self.counter += n
        return out

    def frame(self) -> pl.DataFrame:
        schema = {"defect_id": pl.Utf8, "kind": pl.Utf8, "feed": pl.Utf8, "entity": pl.Utf8, "file": pl.Utf8,
                  "line": pl.Int64, "level": pl.Utf8, "rule": pl.Utf8, "detail": pl.Utf8}
        if not self.manifest:
            return pl.DataFrame(schema=schema)
        return pl.concat([m.select(MANIFEST_COLUMNS).cast(schema) for m in self.manifest])


# ------------------------------------------------------------------------------------- row defects ---

def _unknown_regs(state: Defects, n: int) -> list[str]:
    out = []
    while len(out) < n:  # tiny loop: n is the number of such defects in one file
        cand = "99" + "".join(str(d) for d in state.rng.integers(0, 10, 8))
        if cand not in state.known_regs and cand not in out:
            out.append(cand)
    return out


def _eligible(kind: RowKind, f: pl.DataFrame) -> np.ndarray:
    if kind.op in ("pc_checksum", "pc_date"):
        # new-format codes (32xxxx-xxxxx) also match the legacy pattern but carry no checksum or birth date
        c = f[kind.column]
        return (c.str.contains(LEGACY_PATTERN) & ~c.str.starts_with("32")).fill_null(False).to_numpy()
    if kind.op == "double":
        once = pl.col(PARENT).count().over(PARENT) == 1
        return f.select(once & pl.col("klase").is_not_null() & pl.col("sakumaDatums").is_not_null()).to_series().to_numpy()
    if kind.op == "before":
        return f[kind.value].is_not_null().to_numpy()
    if kind.op == "set" and kind.feed == "viis" and kind.entity == "enrolments":
        return (f[PARENT].is_not_null()).to_numpy()
    return np.ones(f.height, dtype=bool)


def plan_rows(state: Defects, doc: Doc, exclude_last: bool) -> list[tuple[RowKind, np.ndarray]]:
    """Which rows of which parts get which row kind."""
    plan = []
    for part in doc.parts:
        if not part.entity or part.frame.height == 0:
            continue
        kinds = [i for i, k in enumerate(ROW_KINDS) if (k.feed, k.entity) == (doc.feed, part.entity)]
        if not kinds:
            continue
        n = part.frame.height
        counts = dict.fromkeys(kinds, 0)
        for i in kinds:
            if i in state.pending_rows:
                counts[i] += 1
        extra = int(state.rng.binomial(n, state.rate)) if state.rate > 0 else 0
        for i in state.rng.choice(kinds, size=extra):
            counts[int(i)] += 1
        # rows already carrying a meta mark (planted discrepancies) get no defect
        used = part.frame[DEFECT].is_not_null().to_numpy().copy() if DEFECT in part.frame.columns else np.zeros(n, dtype=bool)
        if exclude_last:
            used[-1] = True
        if doc.feed == "viis" and part.entity == "enrolments":
            # at most one defect per learner: an overlap needs its partner spell intact
            pids = part.frame[PARENT].to_numpy()
        else:
            pids = None
        eligible: dict[tuple, np.ndarray] = {}
        for i in kinds:
            c = counts[i]
            if c == 0:
                continue
            kind = ROW_KINDS[i]
            key = ("pc" if kind.op in ("pc_checksum", "pc_date") else kind.op, kind.column, kind.value
                   if kind.op == "before" else None)
            if key not in eligible:  # a mask is the same for every kind of the same test on the same column
                eligible[key] = _eligible(kind, part.frame)
            cand = np.flatnonzero(eligible[key] & ~used)
            if cand.size == 0:
                continue
            pick = np.sort(state.rng.choice(cand, size=min(c, cand.size), replace=False))
            used[pick] = True
            if pids is not None:
                used |= np.isin(pids, pids[pick])
            plan.append((kind, pick))
            if i in state.pending_rows:
                state.pending_rows.remove(i)
    return plan


def _swap(col: str, mapping: dict) -> pl.Expr:
    return pl.col(col).replace(mapping)


def apply_rows(state: Defects, doc: Doc, plan: list[tuple[RowKind, np.ndarray]]) -> list[pl.DataFrame]:
    """Edit the parts' frames (Part.frame is replaced); returns manifest rows (line still null: filled after
    rendering). Only the picked rows are computed on; their cells are scattered back into the columns, and
    copies (duplicates, second spells) are placed right after their source rows by one gather."""
    out = []
    by_part: dict[str, list[tuple[RowKind, np.ndarray]]] = {}
    for kind, idx in plan:
        by_part.setdefault(kind.entity, []).append((kind, idx))
    for entity, items in by_part.items():
        part = doc.part(entity)
        f = with_meta(part.frame)
        n = f.height
        cols = {c: f[c] for c in f.columns}
        copies, sources = [], []
        for kind, idx in items:
            ids = state.ids(idx.size)
            sub = f[idx.tolist()]
            if kind.op in ("dup_row", "dup_key", "double"):
                cp = sub.with_columns(pl.Series(DEFECT, ids, dtype=pl.Utf8))
                if kind.op == "dup_key":
                    cp = cp.with_columns(_swap(kind.column, kind.value).alias(kind.column))
                    det = cp.select(pl.lit(kind.column + "=") + pl.col(kind.column).fill_null("")).to_series()
                elif kind.op == "double":
                    cp = _double(state, doc, cp)
                    det = cp.select(pl.concat_str([pl.lit("second school "), pl.col("iestadesRegNr"), pl.lit(" from "),
                                                   pl.col("sakumaDatums")])).to_series()
                else:
                    det = pl.Series(["exact copy of the previous record"] * idx.size)
                copies.append(cp)
                sources.append(idx)
                out.append(_manifest(kind, doc, ids, det))
                continue
            col = kind.column
            c = pl.col(col) if col else None
            m = idx.size
            if kind.op == "pc_checksum":
                last = c.str.slice(11, 1).cast(pl.Int32, strict=False)
                new = c.str.slice(0, 11) + ((last + 1 + pl.lit(int(state.rng.integers(0, 9)))) % 10).cast(pl.Utf8)
            elif kind.op == "pc_format":
                new = c.str.slice(0, c.str.len_chars() - 1)
            elif kind.op == "pc_date":
                new = pl.lit("3002") + c.str.slice(4)
            elif kind.op == "set":
                v = kind.value(doc.year) if callable(kind.value) else kind.value
                new = pl.lit(v, dtype=pl.Utf8)
            elif kind.op == "null":
                new = pl.lit(None, dtype=pl.Utf8)
            elif kind.op == "unknown_inst":
                new = pl.lit(pl.Series(_unknown_regs(state, m), dtype=pl.Utf8))
            elif kind.op == "before":
                new = (pl.col(kind.value).str.to_date("%Y-%m-%d", strict=False)
                       - pl.duration(days=5 + (pl.int_range(0, m) % 20))).cast(pl.Utf8)
            elif kind.op == "cut":
                new = None
            else:  # pragma: no cover
                raise ValueError(kind.op)
            if new is None:
                cols[CUT] = cols[CUT].scatter(idx, pl.Series([True] * m))
                det = pl.Series(["last field cut off"] * m)
            else:
                vals = sub.with_columns(new.alias(col))[col].cast(pl.Utf8)
                cols[col] = cols[col].scatter(idx, vals)
                det = pl.Series(
                    [f"{col}={v if v is not None else '(empty)'}" for v in vals.to_list()])
            cols[DEFECT] = cols[DEFECT].scatter(idx, pl.Series(ids, dtype=pl.Utf8))
            out.append(_manifest(kind, doc, ids, det))
        f = pl.DataFrame(list(cols.values()))
        if copies:
            src = np.concatenate(sources)
            order = np.argsort(src, kind="stable")
            cps = pl.concat([cp.select(f.columns) for cp in copies])[order.tolist()]
            # each copy right after its source: zero-copy slices of the frame between the sources
            ends = (src[order] + 1).tolist()
            pieces, prev = [], 0
            for i, e in enumerate(ends):  # one step per copy (a handful per file)
                pieces += [f.slice(prev, e - prev), cps.slice(i, 1)]
                prev = e
            pieces.append(f.slice(prev, n - prev))
            f = pl.concat(pieces, rechunk=False)
        part.frame = f
    return out


def _double(state: Defects, doc: Doc, cp: pl.DataFrame) -> pl.DataFrame:
    """A second spell in another general school, starting later and overlapping the first."""
    schools = doc.part("institutions").frame
    gen = sorted(set(doc.part("classes").frame["iestadesRegNr"].to_list()))
    n = cp.height
    orig = cp["iestadesRegNr"].to_list()
    other = []
    for o in orig:  # n is the handful of double enrolments in this file
        choices = [g for g in gen if g != o] or [r for r in schools["regNr"].to_list() if r != o]
        other.append(choices[int(state.rng.integers(0, len(choices)))] if choices else o)
    start = cp["sakumaDatums"].str.to_date("%Y-%m-%d")
    end = cp["beiguDatums"].str.to_date("%Y-%m-%d", strict=False).fill_null(dt.date(doc.year + 1, 8, 31))
    span = (end - start).dt.total_days().to_numpy()
    off = np.minimum(np.maximum(span // 3, 0), 40 + state.rng.integers(0, 20, n))
    new_start = pl.Series([s + dt.timedelta(days=int(o)) for s, o in zip(start.to_list(), off)], dtype=pl.Date)
    return cp.with_columns(pl.Series("iestadesRegNr", other, dtype=pl.Utf8), new_start.cast(pl.Utf8).alias("sakumaDatums"),
                           pl.lit(None, dtype=pl.Utf8).alias("klasesId"))


def _manifest(kind: RowKind, doc: Doc, ids: list[str], detail: pl.Series) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame({
        "defect_id": ids, "kind": [kind.kind] * n, "feed": [doc.feed] * n, "entity": [kind.entity] * n,
        "file": [doc.path] * n, "line": pl.Series([None] * n, dtype=pl.Int64), "level": ["row"] * n,
        "rule": [kind.rule] * n, "detail": detail.cast(pl.Utf8),
    })


# ------------------------------------------------------------------------------------ file defects ---

def choose_file_kind(state: Defects, doc: Doc) -> str | None:
    ents = [(doc.feed, e) for e in doc.entities]
    for name in list(state.pending_files):
        if any(fe in ents for fe in FILE_KINDS[name][1]):
            if doc.rows() < (3 if name == "truncated_file" else 1):
                continue
            state.pending_files.remove(name)
            return name
    return None


def before_render(state: Defects, doc: Doc, file_kind: str | None) -> list[pl.DataFrame]:
    """File kinds that change the records: missing_column drops a required field (every row is then
    quarantined under missing_column); renamed_column renames a header to its alias."""
    out = []
    if file_kind == "missing_column":
        part = next(p for p in doc.parts if p.entity)
        drop = DROP_FIELD[(doc.feed, part.entity)]
        n = part.frame.height
        ids = state.ids(n + 1)
        part.frame = part.frame.drop(drop).with_columns(pl.Series(DEFECT, ids[1:], dtype=pl.Utf8))
        out.append(_file_row(ids[0], "missing_column", doc, part.entity, "missing_column", f"{drop} absent"))
        out.append(pl.DataFrame({
            "defect_id": pl.Series(ids[1:], dtype=pl.Utf8), "kind": ["missing_column"] * n, "feed": [doc.feed] * n, "entity": [part.entity] * n,
            "file": [doc.path] * n, "line": pl.Series([None] * n, dtype=pl.Int64), "level": ["row"] * n,
            "rule": ["missing_column"] * n, "detail": [f"{drop} absent"] * n}))
    elif file_kind == "renamed_column":
        part = next(p for p in doc.parts if p.entity)
        old, new = next(iter(RENAMES.items()))
        part.frame = part.frame.rename({old: new})
        out.append(_file_row(state.ids(1)[0], "renamed_column", doc, part.entity, "renamed_column", f"{old} -> {new}"))
    return out


def after_render(state: Defects, doc: Doc, file_kind: str | None, lines: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame], dict]:
    """File kinds on the rendered lines; returns the lines, manifest rows and rendering options
    (encoding, prefix, final_newline)."""
    opts = {"encoding": doc.encoding, "prefix": doc.prefix, "final_newline": True}
    out = []
    entity = next((p.entity for p in doc.parts if p.entity), None)
    if file_kind == "wrong_encoding":
        opts["encoding"] = "utf-8"
        out.append(_file_row(state.ids(1)[0], "wrong_encoding", doc, entity, "wrong_encoding", f"utf-8, not {doc.encoding}"))
    elif file_kind == "bom":
        opts["prefix"] = "\ufeff".encode("utf-8") + doc.prefix
        out.append(_file_row(state.ids(1)[0], "bom", doc, entity, "bom", "UTF-8 byte order mark"))
    elif file_kind == "blank_lines":
        n = lines.height
        if n >= 3:
            k = int(min(3, n - 2))
            at = np.sort(state.rng.choice(np.arange(2, n), size=k, replace=False))  # before these line indexes
            blank = pl.DataFrame({"text": [""] * k, "defect": [None] * k, "__o": (at * 2 - 1).astype(np.int64)},
                                 schema={"text": pl.Utf8, "defect": pl.Utf8, "__o": pl.Int64})
            lines = (pl.concat([lines.with_columns((pl.int_range(0, n, dtype=pl.Int64) * 2).alias("__o")), blank])
                     .sort("__o").drop("__o"))
            out.append(_file_row(state.ids(1)[0], "blank_lines", doc, entity, "blank_lines", f"{k} blank lines"))
    elif file_kind == "truncated_file":
        last = lines["text"][-1]
        cut = last[: max(1, len(last) * 2 // 3)]
        if doc.fmt == "csv":  # make sure a field goes missing, not just a value shortened
            cut = last[: max(1, last.rfind(doc.delimiter) - 1)]
        ids = state.ids(2)
        lines = pl.concat([lines.head(lines.height - 1), pl.DataFrame({"text": [cut], "defect": [ids[1]]})])
        opts["final_newline"] = False
        out.append(_file_row(ids[0], "truncated_file", doc, entity, "truncated_file", "last record cut off"))
        out.append(pl.DataFrame({"defect_id": [ids[1]], "kind": ["truncated_file"], "feed": [doc.feed], "entity": [entity],
                                 "file": [doc.path], "line": pl.Series([None], dtype=pl.Int64), "level": ["row"],
                                 "rule": ["malformed_record"], "detail": ["record cut mid-line"]}))
    return lines, out, opts


def _file_row(did: str, kind: str, doc: Doc, entity: str | None, rule: str, detail: str) -> pl.DataFrame:
    return pl.DataFrame({"defect_id": [did], "kind": [kind], "feed": [doc.feed], "entity": [entity], "file": [doc.path],
                         "line": pl.Series([None], dtype=pl.Int64), "level": ["file"], "rule": [rule], "detail": [detail]})


def with_lines(rows: list[pl.DataFrame], lines: pl.DataFrame) -> list[pl.DataFrame]:
    """Fill the line numbers of row-level manifest rows from the final lines (1-based)."""
    if not rows:
        return rows
    pos = (lines.with_row_index("ln", offset=1).filter(pl.col("defect").is_not_null())
           .select(pl.col("defect").alias("defect_id"), pl.col("ln").cast(pl.Int64).alias("ln")))
    out = []
    for r in rows:
        r = r.join(pos, on="defect_id", how="left").with_columns(
            pl.when(pl.col("level").is_in(LINED)).then(pl.col("ln")).otherwise(pl.col("line")).alias("line")).drop("ln")
        out.append(r.select(MANIFEST_COLUMNS))
    return out


# ------------------------------------------------------------------- file defects on finished bytes ---

def plan_bytes(state: Defects, doc: Doc, file_kind: str | None, n_lines: int, n_head: int
               ) -> tuple[list[pl.DataFrame], dict]:
    """The fast path's file kinds, decided before the bytes are streamed (a file of n_lines lines, n_head of
    them before the first record). Returns manifest rows and the writing options: encoding, prefix, blanks
    (the original line numbers before which a blank line goes in) and truncate (the last record is cut)."""
    opts = {"encoding": doc.encoding, "prefix": doc.prefix, "blanks": np.array([], dtype=np.int64), "truncate": False}
    out: list[pl.DataFrame] = []
    entity = next((p.entity for p in doc.parts if p.entity), None)
    if file_kind == "blank_lines" and n_lines - n_head >= 2:
        k = int(min(3, n_lines - n_head - 1))
        opts["blanks"] = np.sort(state.rng.choice(np.arange(n_head + 2, n_lines + 1), size=k, replace=False))
        out.append(_file_row(state.ids(1)[0], "blank_lines", doc, entity, "blank_lines", f"{k} blank lines"))
    elif file_kind == "truncated_file" and n_lines - n_head >= 2:
        opts["truncate"] = True
        ids = state.ids(2)
        out.append(_file_row(ids[0], "truncated_file", doc, entity, "truncated_file", "last record cut off"))
        out.append(pl.DataFrame({"defect_id": [ids[1]], "kind": ["truncated_file"], "feed": [doc.feed],
                                 "entity": [entity], "file": [doc.path], "line": pl.Series([n_lines], dtype=pl.Int64),
                                 "level": ["row"], "rule": ["malformed_record"], "detail": ["record cut mid-line"]}))
    elif file_kind == "wrong_encoding":
        opts["encoding"] = "utf-8"
        out.append(_file_row(state.ids(1)[0], "wrong_encoding", doc, entity, "wrong_encoding", f"utf-8, not {doc.encoding}"))
    elif file_kind == "bom":
        opts["prefix"] = "\ufeff".encode("utf-8") + doc.prefix
        out.append(_file_row(state.ids(1)[0], "bom", doc, entity, "bom", "UTF-8 byte order mark"))
    return out, opts


def with_fast_lines(rows: list[pl.DataFrame], lines: pl.DataFrame, blanks: np.ndarray) -> list[pl.DataFrame]:
    """Line numbers from the fast renderer's defect -> line, shifted past the inserted blank lines (one join
    for all of a file's manifest rows)."""
    if not rows:
        return rows
    pos = lines.rename({"defect": "defect_id", "line": "ln"})
    if blanks.size:
        shift = np.searchsorted(blanks, pos["ln"].to_numpy(), side="right")
        pos = pos.with_columns(pl.col("ln") + pl.Series(shift.astype(np.int64)))
    r = pl.concat([r.select(MANIFEST_COLUMNS).cast(SCHEMA) for r in rows])
    r = r.join(pos, on="defect_id", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("level").is_in(LINED) & pl.col("line").is_null()).then(pl.col("ln")).otherwise(pl.col("line"))
        .alias("line")).drop("ln")
    return [r.select(MANIFEST_COLUMNS)]
