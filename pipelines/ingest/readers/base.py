"""What every reader returns, and the mapping of a file's field names onto the contract's columns."""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipelines.common.contracts import Entity

LINE = "_source_line"
MALFORMED = "_malformed"  # detail of a malformed record, null for a well-formed one


@dataclass
class FileRead:
    """One file's records: a Utf8 column per contract column found (dropped columns never appear), the
    1-based start line, and the malformed-record detail; plus the file issues and the contract columns absent."""

    frame: pl.DataFrame
    issues: list[tuple[str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # contract columns (not dropped) absent from the file


@dataclass
class HeaderMap:
    targets: list[str | None]  # per file field (by position): the kept contract column it fills, else None
    issues: list[tuple[str, str]]
    absent: list[str]  # kept contract columns not found
    recognised: int  # how many file fields name a contract column (dropped ones included)


def map_header(entity: Entity, names: list[str], report_absent_optional: bool = True) -> HeaderMap:
    """Source names first, then aliases (renamed_column); other non-empty names are unexpected_column.
    Columns taken from XML parents are not file fields and are left to the caller."""
    by_source = {c.source: c for c in entity.columns}
    by_alias = {a: c for c in entity.columns for a in c.aliases}
    targets: list[str | None] = []
    issues: list[tuple[str, str]] = []
    seen: set[str] = set()
    recognised = 0
    for raw in names:
        targets.append(None)
        name = (raw or "").strip()
        col = by_source.get(name)
        if col is None and name in by_alias:
            col = by_alias[name]
            issues.append(("renamed_column", f"field {name!r} is the old name of {col.source!r} (column {col.name})"))
        if col is None:
            if name:
                issues.append(("unexpected_column", f"field {name!r} is not in the contract"))
            continue
        recognised += 1
        if col.name in seen:
            issues.append(("unexpected_column", f"field {name!r} repeats column {col.name}"))
            continue
        seen.add(col.name)
        if not col.drop:
            targets[-1] = col.name
    absent = [c.name for c in entity.stored_columns if c.name not in seen and c.name not in entity.parent]
    for name in absent:
        c = entity.column(name)
        if c.required or report_absent_optional:
            issues.append(("missing_column", f"column {c.source!r} ({name}{', required' if c.required else ''}) is absent"))
    return HeaderMap(targets, issues, absent, recognised)


def blank_issue(lines: list[int]) -> tuple[str, str]:
    shown = ", ".join(str(n) for n in lines[:10]) + (", ..." if len(lines) > 10 else "")
    return ("blank_lines", f"{len(lines)} blank line(s) skipped: line {shown}")
