"""XML registry extracts with lxml iterparse: records found by their path from the root, columns from the
record's attributes (or its leaf child elements), parent columns from ancestors' attributes as the contract
says (e.g. "../@personasKods"). One pass serves every entity of the file; dropped fields (names) are removed
as soon as a record is read and never reach a frame.

Fast path: an extract written one element per line (as the registry's and the generator's are) is read with
vectorised Polars regex over its lines, giving the same frames as the lxml pass. A strict shape check (single-
line tags, double-quoted attributes, known entity references, balanced tags, one root, no namespaces, comments,
CDATA, text, DOCTYPE) guards it; anything else, including every malformed file, goes to the lxml pass.
The fast path's line numbers are exact; libxml2 keeps element lines in 16 bits, so the lxml pass reports wrong
lines past line 65,535 (a limit of the library, left as it is for odd-shaped files)."""
from __future__ import annotations

import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl
from lxml import etree

from pipelines.common.contracts import Entity
from pipelines.ingest.files import UnreadableFile
from pipelines.ingest.readers.base import LINE, MALFORMED, FileRead, map_header
from pipelines.ingest.readers.delimited import physical_lines

_PARENT = "\x00parent:"


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@dataclass
class _Spec:
    entity: Entity
    path: tuple[str, ...]
    parents: list[tuple[str, int, str]]  # (column, levels up, attribute)
    drop: tuple[str, ...]
    records: list[dict] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _parent_spec(expr: str) -> tuple[int, str]:
    up = 0
    while expr.startswith("../"):
        up, expr = up + 1, expr[3:]
    if not expr.startswith("@") or up == 0:
        raise ValueError(f"unsupported parent path {expr!r}: use '../@attr'")
    return up, expr[1:]


def read_xml(entities: list[Entity], data: bytes, encoding: str, name: str) -> Mapping[str, FileRead]:
    specs = [
        _Spec(
            e,
            tuple(e.record.strip("/").split("/")),
            [(col, *_parent_spec(p)) for col, p in e.parent.items()],
            tuple(c.source for c in e.columns if c.drop) + tuple(a for c in e.columns if c.drop for a in c.aliases),
        )
        for e in entities
    ]
    by_tag: dict[str, list[_Spec]] = {}
    for s in specs:
        by_tag.setdefault(s.path[-1], []).append(s)
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        try:
            return _read_lines(specs, by_tag, data)
        except _Fallback:
            pass
    try:
        for _, el in etree.iterparse(io.BytesIO(data), events=("end",), encoding=encoding, huge_tree=True,
                                     remove_comments=True, remove_pis=True):
            hits = by_tag.get(_local(el.tag))
            if hits:
                for s in hits:
                    if _matches(el, s.path):
                        s.records.append(_record(el, s, by_tag))
                        s.lines.append(el.sourceline)
                # a record's own children ended before it and nothing looks back at it: free it
                el.clear()
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as e:
        raise UnreadableFile(name, f"not well-formed XML: {e}") from None
    return {s.entity.name: _frame(s) for s in specs}


def _matches(el, path: tuple[str, ...]) -> bool:
    node = el
    for tag in reversed(path[:-1]):
        node = node.getparent()
        if node is None or _local(node.tag) != tag:
            return False
    # the path is taken from the root's children: the next ancestor must be the root
    node = node.getparent()
    return node is not None and node.getparent() is None


def _record(el, s: _Spec, record_tags) -> dict:
    rec = dict(el.attrib)
    for d in s.drop:
        rec.pop(d, None)
    for child in el:  # leaf child elements without attributes are fields too (records nested in it are not)
        if len(child) == 0 and not child.attrib and isinstance(child.tag, str):
            tag = _local(child.tag)
            if tag not in s.drop and tag not in rec and tag not in record_tags:
                rec[tag] = child.text
    for col, up, attr in s.parents:
        node = el
        for _ in range(up):
            node = node.getparent() if node is not None else None
        rec[_PARENT + col] = node.get(attr) if node is not None else None
    return rec


def _frame(s: _Spec) -> FileRead:
    if s.records:
        raw = pl.from_dicts(s.records, infer_schema_length=None)
        raw = raw.with_columns(pl.all().cast(pl.Utf8))
    else:
        raw = pl.DataFrame()
    return _finish(s.entity, raw, pl.Series(LINE, s.lines, dtype=pl.Int64), bool(s.records))


def _finish(e: Entity, raw: pl.DataFrame, lines: pl.Series, has_records: bool) -> FileRead:
    """raw: one Utf8 column per field name in order of first appearance, then the parent columns."""
    names = [c for c in raw.columns if not c.startswith(_PARENT)]
    hm = map_header(e, names, report_absent_optional=False)
    cols = [pl.col(n).alias(t) for n, t in zip(names, hm.targets) if t is not None]
    cols += [pl.col(_PARENT + col).alias(col) for col in e.parent if _PARENT + col in raw.columns]
    frame = raw.select(cols) if cols else pl.DataFrame()
    frame = frame.with_columns(lines, pl.lit(None, pl.Utf8).alias(MALFORMED))
    absent = [c for c in hm.absent] + [c for c in e.parent if _PARENT + c not in raw.columns and has_records]
    issues = list(hm.issues)
    if not has_records:  # an empty entity: every column is simply absent, not a defect
        issues, absent = [i for i in issues if i[0] != "missing_column"], []
    return FileRead(frame, issues, absent)


# ---- fast path: one element per line --------------------------------------------------------------------------

class _Fallback(Exception):
    """The file is not in the simple one-element-per-line shape: read it with lxml."""


_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_REF = r"&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});"
_CHAR = r'[^"<&\x00-\x1f\x{FFFE}\x{FFFF}]'  # no tab (the parser would make it a space), CR or control character
_VALUE = rf'"{_CHAR}*(?:{_REF}{_CHAR}*)*"'
_LINE = (rf'^[ \t]*(?:<(?P<tag>{_NAME})(?P<attrs>(?: {_NAME}={_VALUE})*)[ \t]*(?P<slash>/?)>'
         rf'|</(?P<end>{_NAME})[ \t]*>)?[ \t]*$')
_DECL = re.compile(rb'<\?xml version="1\.0"(?: encoding="(?:UTF|utf)-8")?(?: standalone="(?:yes|no)")?\?>[ \t]*(?:\n|$)')
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}
_ROW = "\x00row"
_MAX_DEPTH = 32


def _xml_char(cp: int) -> bool:
    return cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def _read_lines(specs: list[_Spec], by_tag: dict[str, list[_Spec]], data: bytes) -> Mapping[str, FileRead]:
    if data.startswith(b"\xef\xbb\xbf"):
        raise _Fallback
    has_decl = data.startswith(b"<?xml")
    if has_decl and _DECL.match(data) is None:
        raise _Fallback
    if b"\r" in data:  # the parser normalises line ends; a CR would fail the line check below anyway
        raise _Fallback
    try:
        lines = physical_lines(data)
    except pl.exceptions.PolarsError:  # not UTF-8
        raise _Fallback from None
    lines = lines.select((pl.col("line") - 1).cast(pl.UInt32).alias(_ROW), pl.col("t").alias("l"))
    if has_decl:  # the declaration line (checked above) is no element
        lines = lines.slice(1)
    lines = lines.filter(pl.col("l").str.contains(r"[^ \t]"))  # text, control characters, CR: not blank
    if not lines.select(pl.col("l").str.contains(_LINE).all()).item():
        raise _Fallback
    # the lines are validated: cheap literal operations suffice from here
    body = pl.col("l").str.strip_chars(" \t")
    el = lines.select(_ROW, body.alias("l")).select(
        _ROW, pl.col("l").str.starts_with("</").alias("is_end"), pl.col("l").str.ends_with("/>").alias("slash"),
        pl.col("l").str.extract(r"^</?([^ />]+)", 1).alias("name"),
        pl.when(pl.col("l").str.contains('"', literal=True)).then(pl.col("l")).alias("attrs"))
    el = el.with_columns(pl.when(~pl.col("is_end")).then(pl.col("name")).alias("tag"),
                         pl.when(pl.col("is_end")).then(pl.col("name")).alias("end"))
    del lines
    is_open = pl.col("tag").is_not_null() & ~pl.col("slash")
    el = el.with_columns(is_open.alias("open"),
                         pl.when(is_open).then(1).when(pl.col("end").is_not_null()).then(-1).otherwise(0)
                         .cast(pl.Int32).cum_sum().alias("after"))
    el = el.with_columns((pl.col("after") - pl.col("open").cast(pl.Int32)).alias("depth"))
    if el.height == 0:
        raise _Fallback
    chk = el.select(pl.col("after").min().alias("min"), pl.col("after").last().alias("last"),
                    (pl.col("tag").is_not_null() & (pl.col("depth") == 0)).sum().alias("roots"),
                    pl.col("depth").max().alias("max")).row(0, named=True)
    if chk["min"] < 0 or chk["last"] != 0 or chk["roots"] != 1 or chk["max"] > _MAX_DEPTH:
        raise _Fallback
    depths = range(max([chk["max"], *(len(s.path) for s in specs)]) + 1)
    # the open ancestor at each depth: the latest start tag at that depth (tags are balanced by depth)
    el = el.with_columns(
        *[pl.when(pl.col("open") & (pl.col("depth") == k)).then(pl.col("tag")).forward_fill().alias(f"t{k}")
          for k in depths],
        *[pl.when(pl.col("open") & (pl.col("depth") == k)).then(pl.col(_ROW)).forward_fill().alias(f"r{k}")
          for k in depths])

    def at_depth(prefix: str, shift: int) -> pl.Expr:
        expr = pl.when(pl.col("depth") == shift).then(pl.col(f"{prefix}0"))
        for k in depths[1:]:
            expr = expr.when(pl.col("depth") == k + shift).then(pl.col(f"{prefix}{k}"))
        return expr.otherwise(None)

    if el.select((pl.col("end").is_not_null() & (pl.col("end") != at_depth("t", 0))).any()).item():
        raise _Fallback  # mismatched end tag
    masks = {}
    for s in specs:
        m = pl.col("tag").is_not_null() & (pl.col("tag") == s.path[-1]) & (pl.col("depth") == len(s.path))
        for k, t in enumerate(s.path[:-1], start=1):
            m = m & (pl.col(f"t{k}") == t)
        masks[s.entity.name] = m
    el = el.with_columns(pl.any_horizontal(*masks.values()).alias("rec"))
    # a record's leaf child elements would be fields (lxml path); only record elements may sit inside a record
    parent_row = at_depth("r", 1)
    rec_rows = el.filter("rec").get_column(_ROW)
    odd = el.filter(pl.col("tag").is_not_null() & (pl.col("depth") >= 1) & ~pl.col("tag").is_in(list(by_tag))
                    & parent_row.is_in(rec_rows.implode()))
    if odd.height:
        raise _Fallback

    # '<Tag a="1" b="2"/>' split on '"': names at even places but the last ('<Tag a=', ' b='), values at odd ones
    parts = (el.filter(pl.col("attrs").is_not_null())
             .select(_ROW, pl.col("attrs").str.split('"').alias("p"))
             .with_columns(pl.col("p").list.len().cast(pl.Int64).alias("n"))
             .with_columns((pl.col("n").cum_sum() - pl.col("n")).alias("s"))
             .explode("p").with_row_index("i")
             .with_columns((pl.col("i").cast(pl.Int64) - pl.col("s")).alias("pos")))
    start = pl.when(pl.col("pos") == 0).then(pl.col("p").str.find(" ", literal=True) + 1).otherwise(1)
    att = (parts.filter((pl.col("pos") % 2 == 0) & (pl.col("pos") < pl.col("n") - 1))
           .select(_ROW, pl.col("p").str.slice(start).str.strip_suffix("=").alias("name"))
           .hstack(parts.filter(pl.col("pos") % 2 == 1).select(pl.col("p").alias("value"))))
    del parts
    known = att.get_column("name").unique().sort().to_list()
    if any(n.lower().startswith("xml") for n in known):
        raise _Fallback  # namespace declarations and xml: attributes
    code = pl.col("name").replace_strict(known, list(range(len(known))), return_dtype=pl.UInt64)
    if att.height and att.select((pl.col(_ROW).cast(pl.UInt64) * max(len(known), 1) + code).n_unique()).item() != att.height:
        raise _Fallback  # a repeated attribute is not well-formed
    has_ref = att.get_column("value").str.contains("&", literal=True)
    if has_ref.any():  # resolve the references in the few values holding one, not in every value
        idx = has_ref.arg_true()
        values = att.get_column("value")
        refs = values.gather(idx)
        att = att.with_columns(values.scatter(idx, refs.str.replace_many(*_reference_table(refs))))

    # an entity's frame is built when a step first asks for it (the registry's institutions are a step of their
    # own: they need not wait for the learners' pivot); whether it can be built here is decided now, for all
    out = {}
    for s in specs:
        e = s.entity
        rows = el.filter(masks[e.name]).select(_ROW, *[f"r{k}" for k in depths])
        if rows.height == 0:
            out[e.name] = _finish(e, pl.DataFrame(), pl.Series(LINE, [], dtype=pl.Int64), False)
            continue
        if not s.parents and not att.lazy().filter(_fields_of(s, rows)).select(pl.len()).collect().item():
            raise _Fallback
        out[e.name] = functools.partial(_entity_frame, s, rows, att)
    return _Reads(out)


def _fields_of(s: _Spec, rows: pl.DataFrame) -> pl.Expr:
    """The attributes of the spec's records that are its fields (not dropped)."""
    return pl.col(_ROW).is_in(rows.get_column(_ROW).implode()) & ~pl.col("name").is_in(list(s.drop))


def _entity_frame(s: _Spec, rows: pl.DataFrame, att: pl.DataFrame) -> FileRead:
    """One entity's records from the validated lines: its attributes pivoted per record, ancestors' attributes
    joined for the parent columns."""
    a = att.filter(_fields_of(s, rows))
    names = a.get_column("name").unique(maintain_order=True).to_list()
    raw = rows.select(_ROW)
    if names:
        wide = a.pivot(on="name", index=_ROW, values="value")
        raw = raw.join(wide, on=_ROW, how="left", maintain_order="left")
    del a
    for col, up, attr in s.parents:
        k = len(s.path) - up
        if k < 0:
            raw = raw.with_columns(pl.lit(None, pl.Utf8).alias(_PARENT + col))
            continue
        pv = att.filter(pl.col("name") == attr).select(pl.col(_ROW).alias("\x00anc"),
                                                       pl.col("value").alias(_PARENT + col))
        raw = (raw.with_columns(rows.get_column(f"r{k}").alias("\x00anc"))
               .join(pv, on="\x00anc", how="left", maintain_order="left").drop("\x00anc"))
    raw_cols = names + [_PARENT + col for col, _, _ in s.parents]
    line = (raw.get_column(_ROW).cast(pl.Int64) + 1).alias(LINE)
    raw = raw.select(pl.col(c).cast(pl.Utf8) for c in raw_cols)
    return _finish(s.entity, raw, line, True)


class _Reads(Mapping):
    """Entity name -> FileRead, each built on first access (a value may be given ready or as a function); the
    parse state a function holds is released once it has run."""

    def __init__(self, items: dict):
        self._items = items

    def __getitem__(self, name: str) -> FileRead:
        item = self._items[name]
        if callable(item):
            item = self._items[name] = item()
        return item

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _reference_table(values: pl.Series) -> tuple[list[str], list[str]]:
    """Patterns and replacements for the entity and character references in the values (one pass, leftmost)."""
    pats, reps = list(_ENTITIES), list(_ENTITIES.values())
    refs = values.str.extract_all(r"&#x[0-9A-Fa-f]+;|&#[0-9]+;").explode().drop_nulls().unique().sort().to_list()
    for r in refs:
        cp = int(r[3:-1], 16) if r[2] == "x" else int(r[2:-1])
        if not _xml_char(cp):
            raise _Fallback  # lxml rejects it: keep its error
        pats.append(r)
        reps.append(chr(cp))
    return pats, reps
