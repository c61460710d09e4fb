"""Readers per file format. read_partition_file() decodes one landing file and returns its records (Utf8
columns named as the contract's columns) with their start lines, the file issues, and the absent columns."""
from __future__ import annotations

from collections.abc import Mapping

from pipelines.common.contracts import Entity, all_entities
from pipelines.ingest.files import UnreadableFile, decode
from pipelines.ingest.readers.base import LINE, MALFORMED, FileRead
from pipelines.ingest.readers.delimited import read_delimited
from pipelines.ingest.readers.jsonl import read_jsonl
from pipelines.ingest.readers.jsonstat import read_jsonstat
from pipelines.ingest.readers.xml import read_xml

__all__ = ["LINE", "MALFORMED", "FileRead", "read_bytes", "UnreadableFile"]


def read_bytes(entity: Entity, data: bytes, name: str, sha: str | None = None) -> FileRead:
    """Records of one file's bytes. `name` (the landing-relative path) is used in messages and as the cache key
    of XML extracts, which serve every entity of the same file from one parse."""
    if entity.format == "xml":
        issues, reads = _xml_cached(entity, name, sha or str(hash(data)), data)
        r = reads[entity.name]
        return FileRead(r.frame, issues + r.issues, r.absent)
    dec = decode(data, entity.encoding, name)
    readers = {"csv": read_delimited, "pxweb_csv": read_delimited, "jsonl": read_jsonl, "jsonstat": read_jsonstat}
    if entity.format not in readers:
        raise ValueError(f"{entity.feed}.{entity.name}: unknown format {entity.format!r}")
    try:
        r = readers[entity.format](entity, dec.data, name)
    except UnreadableFile as e:
        raise UnreadableFile(name, e.reason) from None
    return FileRead(r.frame, dec.issues + r.issues, r.absent)


def _xml_prefix(data: bytes, encoding: str, name: str) -> tuple[str, list[tuple[str, str]]]:
    """The encoding to parse with, and BOM / encoding issues (decoding is left to the XML parser)."""
    dec = decode(data, encoding, name)
    return dec.encoding, dec.issues


# one extract at a time (national extracts are large): key -> (the file's BOM / encoding issues, reads per entity)
_XML_CACHE: dict[tuple, tuple[list[tuple[str, str]], Mapping[str, FileRead]]] = {}


def _xml_cached(entity: Entity, name: str, sha: str, data: bytes
                ) -> tuple[list[tuple[str, str]], Mapping[str, FileRead]]:
    """The parse of an extract for every entity of it, and its file issues, computed once per file content: the
    encoding check decodes the whole file (~0.2 s per 160 MB), which nine entities need not repeat."""
    key = (entity.feed, entity.files, name, sha)
    if key not in _XML_CACHE:
        _XML_CACHE.clear()
        from pipelines.ingest.files import strip_boms

        encoding, issues = _xml_prefix(data, entity.encoding, name)
        body, _ = strip_boms(data, encoding, name)
        entities = [e for e in all_entities() if e.feed == entity.feed and e.files == entity.files and e.format == "xml"]
        codec = "utf-8" if encoding == "utf-8" else "windows-1257"
        _XML_CACHE[key] = (issues, read_xml(entities, body, codec, name))
    return _XML_CACHE[key]
