"""The open-data exports of the shared demo warehouse (tests/integration/dbt_warehouse.py, every open_data.od_*
model built by the dbt build): every dataset of the catalogue exported with the §4 layout, manifest, datapackage
and DCAT facts consistent with the files; a leak scan of every exported byte for personal codes (both formats),
pseudonyms and person names of the generated country; a second export is byte-identical."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.open_data import catalogue
from pipelines.open_data.export import export_all
from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

CAT = catalogue.load()
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # a word of letters (names may be hyphenated)
HEX16 = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{16}(?![0-9a-fA-F])")  # a pseudonym's shape
# an 11-digit personal code, with or without its hyphen, not part of a longer run of letters or digits
CODE = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}-?[0-9]{5}(?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    data = wh.use()
    out = tmp_path_factory.mktemp("open_data")
    manifest = export_all(data / "warehouse.duckdb", out)
    return data, out, manifest


def _texts(out: Path) -> dict[str, str]:
    """Every exported file as text: CSV and JSON as they are, Parquet as its column names and decoded values."""
    texts = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            df = pl.read_parquet(path)
            parts = [",".join(df.columns)]
            parts += ["\n".join(str(v) for v in df[c].to_list()) for c in df.columns]
            texts[str(path.relative_to(out))] = "\n".join(parts)
        else:
            texts[str(path.relative_to(out))] = path.read_bytes().decode("utf-8")
    return texts


def _people() -> pl.DataFrame:
    """The persons of the generated country (the same seed, scale and years as the shared warehouse)."""
    from pipelines.generator import population

    return population.simulate(wh.SEED, wh.SCALE, wh.YEARS).persons.select("personal_code", "first_name", "last_name")


def _pseudonyms(warehouse: Path) -> set[str]:
    """Every 16-hex value of every VARCHAR column of the raw layer and the marts (the pseudonymised codes)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cols = con.execute("""SELECT table_schema, table_name, column_name FROM information_schema.columns
            WHERE table_schema IN ('raw', 'marts', 'intermediate') AND data_type = 'VARCHAR'""").fetchall()
        out: set[str] = set()
        for schema, table, col in cols:
            out |= {r[0] for r in con.execute(
                f'SELECT DISTINCT "{col}" FROM {schema}."{table}" '
                f"WHERE regexp_full_match(\"{col}\", '[0-9a-f]{{16}}')").fetchall()}
        return out
    finally:
        con.close()


def leaks(texts: dict[str, str], people: pl.DataFrame, pseudonyms: set[str]) -> list[str]:
    codes = set(people["personal_code"].to_list())
    codes |= {c.replace("-", "") for c in codes}
    full_names = {f"{f} {l}" for f, l in zip(people["first_name"], people["last_name"])}
    full_names |= {f"{l} {f}" for f, l in zip(people["first_name"], people["last_name"])}
    found = []
    for name, text in texts.items():
        for m in CODE.findall(text):
            found.append(f"{name}: personal-code-shaped {m!r}" + (" (a real one)" if m in codes else ""))
        for m in set(HEX16.findall(text)) & pseudonyms:
            found.append(f"{name}: pseudonym {m}")
        words = WORD.findall(text)
        pairs = {f"{a} {b}" for a, b in zip(words, words[1:])}
        for m in sorted(pairs & full_names):
            found.append(f"{name}: person name {m!r}")
    return found


def test_every_dataset_is_exported(exported):
    data, out, manifest = exported
    assert [d["number"] for d in manifest["datasets"]] == [d.number for d in CAT.datasets]
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        for entry in manifest["datasets"]:
            ds = CAT.dataset(entry["name"])
            periods = [r[0].replace("/", "-") for r in con.execute(
                f"SELECT DISTINCT macibu_gads FROM open_data.{ds.model} ORDER BY 1").fetchall()]
            n = con.execute(f"SELECT count(*) FROM open_data.{ds.model}").fetchone()[0]
            assert periods, f"{ds.model} is empty"
            csvs = [f for f in entry["files"] if f["format"] == "CSV"]
            assert [f["period"] for f in csvs] == periods
            assert sum(f["rows"] for f in csvs) == n
            for f in entry["files"]:
                path = out / f["path"]
                assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"] and path.stat().st_size == f["bytes"]
                if f["format"] == "Parquet":
                    assert pl.read_parquet(path).height == f["rows"]
                if f["format"] == "CSV":
                    header = path.read_text(encoding="utf-8").split("\n", 1)[0]
                    assert header == ",".join(c.name for c in ds.published_columns())
    finally:
        con.close()


def test_csv_values_are_the_published_ones(exported):
    """Each CSV cell is the table's value or, where the value is not published, its symbol."""
    data, out, manifest = exported
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        for entry in manifest["datasets"]:
            ds = CAT.dataset(entry["name"])
            for f in (f for f in entry["files"] if f["format"] == "Parquet"):
                pq = pl.read_parquet(out / f["path"])
                csv = pl.read_csv(out / f["path"].replace(".parquet", ".csv"), infer_schema=False)
                for c in ds.value_columns():
                    if not c.publish:
                        continue
                    flag = pq[c.name + "_pazime"]
                    assert set(flag.drop_nulls().unique().to_list()) <= {"c", "z", "x"}
                    assert (csv[c.name].is_in(["c", "z", "x"]) == flag.is_not_null()).all(), (ds.name, c.name)
                    assert (csv.filter(flag.is_not_null())[c.name] == flag.drop_nulls()).all()
                    assert pq.filter(flag.is_not_null())[c.name].null_count() == flag.is_not_null().sum()
    finally:
        con.close()


def test_metadata_documents(exported):
    _, out, manifest = exported
    catalog = json.loads((out / "catalog.jsonld").read_text(encoding="utf-8"))
    assert [n["@id"] for n in catalog["dcat:dataset"]] == [CAT.uri(d) for d in CAT.datasets]
    for entry in manifest["datasets"]:
        ds = CAT.dataset(entry["name"])
        files = {f["path"].split("/")[1]: f for f in entry["files"]}
        pkg = json.loads((out / ds.name / "datapackage.json").read_text(encoding="utf-8"))
        assert pkg["name"] == ds.name and pkg["id"] == CAT.uri(ds)
        for r in pkg["resources"]:
            assert r["hash"] == "sha256:" + files[r["path"]]["sha256"] and r["bytes"] == files[r["path"]]["bytes"]
            assert set(r["schema"]["primaryKey"]) <= {fld["name"] for fld in r["schema"]["fields"]}
        doc = json.loads((out / ds.name / "dcat.jsonld").read_text(encoding="utf-8"))
        assert doc["@id"] == CAT.uri(ds) and doc["dct:identifier"] == CAT.uri(ds)
        for d in doc["dcat:distribution"]:
            assert d["spdx:checksum"]["spdx:checksumValue"] == files[d["dcat:downloadURL"]["@id"]]["sha256"]


def test_leak_scan(exported):
    data, out, _ = exported
    texts = _texts(out)
    people = _people()
    pseudonyms = _pseudonyms(data / "warehouse.duckdb")
    assert len(people) > 1000 and len(pseudonyms) > 1000  # the scan has something to look for
    # the scanner finds what it is meant to find: a planted code, pseudonym and name in a copy
    row = people.row(0, named=True)
    planted = {"planted.csv": f"a,{row['personal_code']},{sorted(pseudonyms)[0]},{row['first_name']} {row['last_name']}\n"}
    assert len(leaks(planted, people, pseudonyms)) == 3
    assert leaks(texts, people, pseudonyms) == []


def test_second_export_is_byte_identical(exported, tmp_path):
    data, out, manifest = exported
    again = export_all(data / "warehouse.duckdb", tmp_path)
    assert again == manifest
    first = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys() and all(first[k] == second[k] for k in first)
