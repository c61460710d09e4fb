"""Finding a partition's files and turning their bytes into UTF-8: BOMs, encodings, unreadable content.

File issues found here are (issue, detail) pairs; a file that cannot be read at all raises UnreadableFile.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.common.contracts import Entity

BOM = b"\xef\xbb\xbf"


class UnreadableFile(Exception):
    """A file that cannot be read at all: its asset fails, naming the file and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class Decoded:
    data: bytes  # the content as UTF-8 (BOMs removed): the readers work on bytes (see is_utf8)
    encoding: str  # the encoding the file was actually in
    issues: list[tuple[str, str]] = field(default_factory=list)


def is_utf8(data: bytes) -> bool:
    """Valid UTF-8? Polars' strict cast checks it without building a Python str (half the time of bytes.decode
    on a 200 MB file, and the readers never need the str: decoding and encoding again cost ~0.5 s per file).
    The first 64 KiB are tried first: a windows-1257 file fails there (in its header) without a copy of it all."""
    if data.isascii():
        return True
    head = data[:1 << 16]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if len(head) == len(data) or e.start < len(head) - 3:  # not a character cut at the window's end
            return False
    else:
        if len(head) == len(data):
            return True
    import polars as pl

    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.Utf8)
    except pl.exceptions.PolarsError:
        return False
    return True


def cp1257_to_utf8(data: bytes) -> bytes:
    """windows-1257 -> UTF-8. The vendor's files are ASCII but for a few bytes (the header's ā, ģ): only those
    are translated (~0.01 s for 56 MB against 0.15 s through a Python str); a file with many takes the codec."""
    import numpy as np

    if data.isascii():
        return data
    high = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) >= 0x80)
    if len(high) > 4096:
        return data.decode("cp1257").encode("utf-8")
    pieces, start = [], 0
    for i in high.tolist():
        try:
            char = data[i:i + 1].decode("cp1257")
        except UnicodeDecodeError:  # an undefined byte: the codec's own error, with its position in the file
            return data.decode("cp1257").encode("utf-8")
        pieces += [data[start:i], char.encode("utf-8")]
        start = i + 1
    pieces.append(data[start:])
    return b"".join(pieces)


def partition_dir(landing: Path, feed: str, year: int) -> Path:
    return landing / feed / str(year)


def partition_files(entity: Entity, year: int, landing: Path) -> list[Path]:
    """The entity's files of one school year, sorted by name (deterministic order)."""
    folder = partition_dir(landing, entity.feed, year)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob(entity.files) if p.is_file()), key=lambda p: p.name)


def landing_years(landing: Path, feeds: list[str] | None = None) -> list[int]:
    """School-year keys that have a folder under any feed of the landing dir."""
    years: set[int] = set()
    if not landing.is_dir():
        return []
    for feed_dir in landing.iterdir():
        if not feed_dir.is_dir() or feed_dir.name.startswith("_") or (feeds and feed_dir.name not in feeds):
            continue
        for d in feed_dir.iterdir():
            if d.is_dir() and d.name.isdigit() and len(d.name) == 4:
                years.add(int(d.name))
    return sorted(years)


def relative(path: Path, landing: Path) -> str:
    return path.resolve().relative_to(landing.resolve()).as_posix()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _base(encoding: str) -> str:
    e = encoding.lower().replace("_", "-")
    if e in ("utf-8", "utf8", "utf-8-sig"):
        return "utf-8"
    if e in ("windows-1257", "cp1257"):
        return "cp1257"
    return e


def strip_boms(data: bytes, encoding: str, name: str) -> tuple[bytes, list[tuple[str, str]]]:
    """Remove leading UTF-8 BOMs (the registry's export doubles it); report one if the contract expects none."""
    n = 0
    while data.startswith(BOM, n * 3):
        n += 1
    issues = []
    if n and encoding.lower() != "utf-8-sig":
        issues.append(("bom", f"{n} UTF-8 byte-order mark(s) removed; the contract's encoding is {encoding}"))
    return data[n * 3:], issues


def decode(data: bytes, encoding: str, name: str) -> Decoded:
    """Decode with the contract's encoding; a UTF-8 / windows-1257 mix-up is decoded the other way and reported."""
    if b"\x00" in data[:1_000_000]:
        raise UnreadableFile(name, "binary content (NUL bytes), not a text file")
    body, issues = strip_boms(data, encoding, name)
    base = _base(encoding)
    if base == "utf-8":
        if is_utf8(body):
            return Decoded(body, "utf-8", issues)
        try:
            utf8 = cp1257_to_utf8(body)
        except UnicodeDecodeError:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UnreadableFile(name, f"neither UTF-8 ({e.reason} at byte {e.start}) nor windows-1257") from None
            raise  # pragma: no cover - is_utf8 said it is not UTF-8
        return Decoded(utf8, "cp1257", issues + [("wrong_encoding", "not valid UTF-8: decoded as windows-1257")])
    if base == "cp1257":
        had_bom = len(body) != len(data)
        if not body.isascii():
            if is_utf8(body):
                return Decoded(body, "utf-8", issues + [("wrong_encoding", "UTF-8 where windows-1257 was expected: decoded as UTF-8")])
        elif had_bom:
            issues = issues + [("wrong_encoding", "UTF-8 byte-order mark on a windows-1257 file")]
        try:
            return Decoded(cp1257_to_utf8(body), "cp1257", issues)
        except UnicodeDecodeError as e:
            raise UnreadableFile(name, f"not windows-1257 ({e.reason} at byte {e.start}) and not UTF-8") from None
    try:
        return Decoded(body.decode(base).encode("utf-8"), base, issues)
    except (UnicodeDecodeError, LookupError) as e:
        raise UnreadableFile(name, f"cannot decode as {encoding}: {e}") from None
