"""The feed contracts of models/contracts/*.yaml, loaded into small typed objects.

Ingest reads column names, types, code lists and keys from here; the generator reads file formats from here.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import CONTRACTS_DIR

TYPES = {"varchar", "integer", "double", "date", "timestamp", "boolean"}


@dataclass(frozen=True)
class Column:
    name: str
    source: str
    type: str
    required: bool = False
    personal_code: bool = False
    drop: bool = False
    aliases: tuple[str, ...] = ()
    codes: tuple[str, ...] | None = None
    classifier: str | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    not_future: bool = False
    references: str | None = None


@dataclass(frozen=True)
class Entity:
    feed: str
    name: str
    format: str
    encoding: str
    files: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    delimiter: str | None = None
    quote: str | None = None
    skip_rows: int = 0
    record: str | None = None
    parent: dict[str, str] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    partitioned: bool = True

    @property
    def table(self) -> str:
        """Raw table name, without schema: <feed>_<entity>."""
        return f"{self.feed}_{self.name}"

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.drop)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.feed}.{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Feed:
    name: str
    title: str
    entities: tuple[Entity, ...]

    def entity(self, name: str) -> Entity:
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(f"feed {self.name!r} has no entity {name!r}")


def _column(raw: dict[str, Any], where: str) -> Column:
    if raw.get("type") not in TYPES:
        raise ValueError(f"{where}: column {raw.get('name')!r} has type {raw.get('type')!r}, not one of {sorted(TYPES)}")
    codes = raw.get("codes")
    return Column(
        name=raw["name"],
        source=str(raw.get("source", raw["name"])),
        type=raw["type"],
        required=bool(raw.get("required", False)),
        personal_code=bool(raw.get("personal_code", False)),
        drop=bool(raw.get("drop", False)),
        aliases=tuple(raw.get("aliases", ())),
        codes=tuple(str(c) for c in codes) if codes is not None else None,
        classifier=raw.get("classifier"),
        min=raw.get("min"),
        max=raw.get("max"),
        pattern=raw.get("pattern"),
        not_future=bool(raw.get("not_future", False)),
        references=raw.get("references"),
    )


def load_feed(path: Path) -> Feed:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    entities = []
    for e in doc["entities"]:
        where = f"{path.name}:{e['name']}"
        cols = tuple(_column(c, where) for c in e["columns"])
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: duplicate column names")
        key = tuple(e.get("key", ()))
        missing = set(key) - set(names)
        if missing:
            raise ValueError(f"{where}: key columns {sorted(missing)} are not columns")
        entities.append(
            Entity(
                feed=doc["feed"],
                name=e["name"],
                format=e.get("format", doc.get("format")),
                encoding=e.get("encoding", doc.get("encoding", "utf-8")),
                files=e["files"],
                columns=cols,
                key=key,
                delimiter=e.get("delimiter", doc.get("delimiter")),
                quote=e.get("quote", doc.get("quote")),
                skip_rows=int(e.get("skip_rows", 0)),
                record=e.get("record"),
                parent=dict(e.get("parent", {})),
                derive=dict(e.get("derive", {})),
                partitioned=bool(doc.get("partitioned", True)),
            )
        )
    return Feed(name=doc["feed"], title=" ".join(str(doc.get("title", "")).split()), entities=tuple(entities))


@functools.cache
def feeds(directory: Path = CONTRACTS_DIR) -> dict[str, Feed]:
    out = {}
    for path in sorted(directory.glob("*.yaml")):
        feed = load_feed(path)
        out[feed.name] = feed
    return out


def entity(feed: str, name: str) -> Entity:
    return feeds()[feed].entity(name)


def all_entities() -> list[Entity]:
    return [e for f in feeds().values() for e in f.entities]
