"""XML registry extracts with lxml iterparse: records found by their path from the root, columns from the
record's attributes (or its leaf child elements), parent columns from ancestors' attributes as the contract
says (e.g. "../@personasKods"). One pass serves every entity of the file; dropped fields (names) are removed
as soon as a record is read and never reach a frame."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import polars as pl
from lxml import etree

from pipelines.common.contracts import Entity
from pipelines.ingest.files import UnreadableFile
from pipelines.ingest.readers.base import LINE, MALFORMED, FileRead, map_header

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


def read_xml(entities: list[Entity], data: bytes, encoding: str, name: str) -> dict[str, FileRead]:
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
    e = s.entity
    if s.records:
        raw = pl.from_dicts(s.records, infer_schema_length=None)
        raw = raw.with_columns(pl.all().cast(pl.Utf8))
    else:
        raw = pl.DataFrame()
    names = [c for c in raw.columns if not c.startswith(_PARENT)]
    hm = map_header(e, names, report_absent_optional=False)
    cols = [pl.col(n).alias(t) for n, t in zip(names, hm.targets) if t is not None]
    cols += [pl.col(_PARENT + col).alias(col) for col in e.parent if _PARENT + col in raw.columns]
    frame = raw.select(cols) if cols else pl.DataFrame()
    frame = frame.with_columns(pl.Series(LINE, s.lines, dtype=pl.Int64), pl.lit(None, pl.Utf8).alias(MALFORMED))
    absent = [c for c in hm.absent] + [c for c in e.parent if _PARENT + c not in raw.columns and s.records]
    issues = list(hm.issues)
    if not s.records:  # an empty entity: every column is simply absent, not a defect
        issues, absent = [i for i in issues if i[0] != "missing_column"], []
    return FileRead(frame, issues, absent)
