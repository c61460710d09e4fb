"""One entity, one school year: read the partition's files, validate, pseudonymise, derive, replace the partition
in DuckDB. Called by the Dagster assets; usable on its own (tests, notebooks)."""
from __future__ import annotations

import functools
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import settings
from pipelines.common.contracts import Entity
from pipelines.ingest import load
from pipelines.ingest.files import partition_files, relative, sha256
from pipelines.ingest.readers import LINE, MALFORMED, read_bytes
from pipelines.ingest.validate import FILE, MISSING_COLUMN, ORD, validate

_DERIVE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


@dataclass
class EntityResult:
    table: str
    year: int
    files: list[dict] = field(default_factory=list)  # per file: _source_file, sha256, rows_read/loaded/quarantined
    issues: list[dict] = field(default_factory=list)  # per file issue: _source_file, issue, detail
    rules: dict[str, int] = field(default_factory=dict)  # quarantined rows per first rule
    seconds: float = 0.0
    institutions: list[str] | None = None  # the year's registry institutions it was checked against, if any

    @property
    def rows_read(self) -> int:
        return sum(f["rows_read"] for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f["rows_loaded"] for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f["rows_quarantined"] for f in self.files)

    @property
    def reconciles(self) -> bool:
        return all(f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] for f in self.files)


@functools.cache
def _classifiers(path: Path, mtime: float) -> dict[str, list[str]]:
    df = pl.read_csv(path, infer_schema=False)
    return {k: sorted(v) for k, v in df.group_by("classifier").agg(pl.col("code")).iter_rows()}


def classifiers() -> dict[str, list[str]]:
    path = settings.SEEDS_DIR / "viis_classifiers.csv"
    if not path.exists():
        return {}
    return _classifiers(path, path.stat().st_mtime)


def derive(entity: Entity, loaded: pl.DataFrame) -> pl.DataFrame:
    """The contract's `derive:` columns, e.g. municipality_atvk: municipality_from_address(adrese)."""
    if not entity.derive:
        return loaded
    from pipelines.common import territory

    out = []
    for name, spec in entity.derive.items():
        m = _DERIVE.match(spec)
        if not m or not hasattr(territory, m.group(1)):
            raise ValueError(f"{entity.table}: cannot derive {name} from {spec!r}")
        if loaded.height == 0:
            out.append(pl.Series(name, [], dtype=pl.Utf8))
        else:
            out.append(getattr(territory, m.group(1))(loaded[m.group(2)]).cast(pl.Utf8).alias(name))
    return loaded.with_columns(out)


# the digest of the last extract read, by the file's identity: the nine entities of a registry extract are read
# one after another in one process, and hashing its 160 MB again for each cost ~0.2 s a time
_DIGEST: dict[tuple, str] = {}


def _extract_digest(path: Path, data: bytes) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _DIGEST:
        _DIGEST.clear()
        _DIGEST[key] = sha256(data)
    return _DIGEST[key]


def read_partition(entity: Entity, year: int, landing: Path) -> tuple[pl.DataFrame, list[dict], list[dict]]:
    """Every record of the partition's files (Utf8), the per-file facts, and the file issues."""
    names = [c.name for c in entity.stored_columns]
    frames, files, issues = [], [], []
    paths = partition_files(entity, year, landing)
    # the file of each record as an Enum of the partition's files: a string per row cost ~230 MB for the ten
    # national absence files (the values, and the loaded table, are the same)
    file_enum = pl.Enum([relative(p, landing) for p in paths])
    with ThreadPoolExecutor(1) as hasher:  # hashlib releases the GIL: a file's SHA-256 is computed while it is parsed
        for i, path in enumerate(paths):
            rel = relative(path, landing)
            data = path.read_bytes()
            if entity.format == "xml":  # the digest keys the parse shared by the extract's entities: needed first
                digest = _extract_digest(path, data)
                fr = read_bytes(entity, data, rel, digest)
            else:
                pending = hasher.submit(sha256, data)
                fr = read_bytes(entity, data, rel)
                digest = pending.result()
            del data
            f = fr.frame
            f = f.with_columns([pl.lit(None, pl.Utf8).alias(n) for n in names if n not in f.columns])
            required_absent = [n for n in fr.absent if entity.column(n).required]
            miss = (f"the file has no column {', '.join(entity.column(n).source for n in required_absent)}"
                    if required_absent else None)
            f = f.select(names + [LINE, MALFORMED]).with_columns(
                pl.lit(rel, file_enum).alias(FILE), pl.lit(miss, pl.Utf8).alias(MISSING_COLUMN),
                (pl.int_range(pl.len(), dtype=pl.Int64) + (i << 40)).alias(ORD),
            )
            frames.append(f)
            files.append({"_source_file": rel, "sha256": digest, "rows_read": f.height})
            issues += [{"_source_file": rel, "issue": k, "detail": d} for k, d in fr.issues]
    schema = {**{n: pl.Utf8 for n in names}, LINE: pl.Int64, MALFORMED: pl.Utf8, FILE: file_enum,
              MISSING_COLUMN: pl.Utf8, ORD: pl.Int64}
    frame = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=schema)
    return frame, files, issues


def ingest_entity(entity: Entity, year: int, landing: Path | None = None, warehouse: Path | None = None,
                  key: bytes | None = None, institutions: list[str] | None = None) -> EntityResult:
    """Materialize raw.<feed>_<entity> (+ quarantine, meta) for one school year. Raises UnreadableFile for a
    file that cannot be read at all (nothing is written then). institutions: the year's loaded registry
    institutions when the caller has them (the entities of one extract, in one step); else they are read."""
    t0 = time.perf_counter()
    landing = landing or settings.landing_dir()
    warehouse = warehouse or settings.warehouse_path()
    key = key if key is not None else settings.pseudonym_key()
    needs_institutions = any(c.references for c in entity.stored_columns)
    with ThreadPoolExecutor(1) as reader:
        # read while the files are parsed: the read may wait for the warehouse while another step process
        # inserts (DuckDB takes one process at a time), and the parse need not wait with it
        pending = (reader.submit(load.institutions_of, warehouse, year)
                   if needs_institutions and institutions is None else None)
        frame, files, issues = read_partition(entity, year, landing)
        if pending is not None:
            institutions = pending.result()
    if not needs_institutions:
        institutions = None
    needs_classifiers = any(c.classifier for c in entity.stored_columns)
    v = validate(entity, frame, year, key, institutions, classifiers() if needs_classifiers else {})
    del frame  # the records as read (~1.4 GB for a national month-file partition): not needed for the write
    loaded = derive(entity, v.loaded).with_columns(
        pl.lit(year, pl.Int32).alias("_school_year"), pl.col(LINE).cast(pl.Int32))
    quarantined = v.quarantined.with_columns(pl.col(LINE).cast(pl.Int32))
    del v
    per_file = pl.DataFrame(files, schema={"_source_file": pl.Utf8, "sha256": pl.Utf8, "rows_read": pl.Int64})
    counts_l = loaded.group_by(pl.col(FILE).cast(pl.Utf8)).len("rows_loaded")
    counts_q = quarantined.group_by(pl.col(FILE).cast(pl.Utf8)).len("rows_quarantined")
    per_file = (per_file.join(counts_l, on=FILE, how="left").join(counts_q, on=FILE, how="left")
                .with_columns(pl.col("rows_loaded", "rows_quarantined").fill_null(0).cast(pl.Int64)))
    bad = per_file.filter(pl.col("rows_read") != pl.col("rows_loaded") + pl.col("rows_quarantined"))
    if bad.height:
        raise AssertionError(f"{entity.table} {year}: rows read != loaded + quarantined for {bad.to_dicts()}")
    issues_df = pl.DataFrame(issues, schema={"_source_file": pl.Utf8, "issue": pl.Utf8, "detail": pl.Utf8})
    load.replace_partition(warehouse, entity, year, loaded, quarantined, issues_df, per_file)
    rules = dict(quarantined.group_by("rule").len().sort("rule").iter_rows())
    return EntityResult(entity.table, year, per_file.to_dicts(), issues, rules, time.perf_counter() - t0,
                        institutions)
