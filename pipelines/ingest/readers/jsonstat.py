"""JSON-stat 2.0 (PxWeb JSON): the value array unrolled over the dimensions (row-major, last dimension
fastest) with NumPy. A record's line is its 1-based position in the value array: the file has no lines."""
from __future__ import annotations

import json
import math

import numpy as np
import polars as pl

from pipelines.common.contracts import Entity
from pipelines.ingest.files import UnreadableFile
from pipelines.ingest.readers.base import LINE, MALFORMED, FileRead, map_header


def _categories(dim: dict, size: int, name: str, dim_id: str) -> list[str]:
    index = dim.get("category", {}).get("index")
    if index is None:  # a single-category dimension may give labels only
        index = list(dim.get("category", {}).get("label", {}).keys())
    if isinstance(index, dict):
        codes = [None] * len(index)
        for code, pos in index.items():
            codes[pos] = code
    else:
        codes = list(index)
    if len(codes) != size or any(c is None for c in codes):
        raise UnreadableFile(name, f"dimension {dim_id!r} has {len(codes)} categories, size says {size}")
    return [str(c) for c in codes]


def _dataset(doc, entity: Entity, name: str) -> dict:
    if isinstance(doc, dict) and doc.get("class") == "collection":
        items = doc.get("link", {}).get("item", [])
        doc = next((d for d in items if entity.record in (None, d.get("label"))), None)
    elif isinstance(doc, dict) and "dimension" not in doc and entity.record in doc:  # JSON-stat 1.x bundle
        doc = doc[entity.record]
    if not isinstance(doc, dict) or not all(k in doc for k in ("id", "size", "dimension", "value")):
        raise UnreadableFile(name, "not a JSON-stat dataset (needs id, size, dimension and value)")
    return doc


def _text(v) -> str | None:
    if v is None or isinstance(v, bool):
        return None if v is None else str(v).lower()
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return str(int(v))
    return str(v)


def read_jsonstat(entity: Entity, data: bytes, name: str) -> FileRead:
    try:
        doc = json.loads(data.decode("utf-8"))
    except json.JSONDecodeError as e:
        raise UnreadableFile(name, f"not valid JSON: {e}") from None
    ds = _dataset(doc, entity, name)
    ids, sizes = [str(i) for i in ds["id"]], [int(s) for s in ds["size"]]
    if len(ids) != len(sizes):
        raise UnreadableFile(name, "id and size differ in length")
    n = int(np.prod(sizes)) if sizes else 0
    values = ds["value"]
    if isinstance(values, dict):  # sparse: {"position": value}
        dense = [None] * n
        for pos, v in values.items():
            dense[int(pos)] = v
        values = dense
    if len(values) != n:
        raise UnreadableFile(name, f"{len(values)} values where the dimensions give {n}")
    hm = map_header(entity, ids + ["value"])
    cols: dict[str, pl.Series] = {}
    grid = np.indices(sizes).reshape(len(sizes), -1) if sizes else np.zeros((0, 0), dtype=int)
    for k, (dim_id, size) in enumerate(zip(ids, sizes)):
        target = hm.targets[k]
        if target is None:
            continue
        codes = np.array(_categories(ds["dimension"].get(dim_id, {}), size, name, dim_id), dtype=object)
        cols[target] = pl.Series(target, codes[grid[k]].tolist(), dtype=pl.Utf8)
    if hm.targets[-1] is not None:
        cols[hm.targets[-1]] = pl.Series(hm.targets[-1], [_text(v) for v in values], dtype=pl.Utf8)
    frame = pl.DataFrame(cols).with_columns(
        pl.Series(LINE, np.arange(1, n + 1), dtype=pl.Int64), pl.lit(None, pl.Utf8).alias(MALFORMED)
    )
    return FileRead(frame, hm.issues, hm.absent)
