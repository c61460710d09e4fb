"""The open-data export on hand-made open_data.od_* tables: file layout, CSV format (symbols, rounding, order,
quoting), Parquet typing and flags, manifest / datapackage / DCAT facts, determinism, stale files."""
from __future__ import annotations

import hashlib
import json

import duckdb
import polars as pl
import pytest

from pipelines.open_data import catalogue
from pipelines.open_data.export import ExportError, export_all, period_slug

CAT = catalogue.load()
GEN = CAT.dataset("od_learners_general")
GRADES = CAT.dataset("od_grades_by_programme")

# od_learners_general rows, deliberately NOT in export order
LEARNERS = [
    # macibu_gads, limenis, pasv_kods, pasv, iest_kods, iestade, klase, dzimums, skaits, pazime
    ("2023/2024", "iestāde", "0001000", "Rīga", "9000000001", 'Skola "A", Rīga', "10", "Kopā", 12, None),
    ("2023/2024", "iestāde", "0001000", "Rīga", "9000000001", 'Skola "A", Rīga', "2", "Kopā", 7, None),
    ("2023/2024", "iestāde", "0001000", "Rīga", "9000000001", 'Skola "A", Rīga', "2", "V", None, "c"),
    ("2023/2024", "iestāde", "0001000", "Rīga", "9000000001", 'Skola "A", Rīga', "Kopā", "Kopā", 19, None),
    ("2023/2024", "pašvaldība", "0001000", "Rīga", None, None, "Kopā", "Kopā", 19, None),
    ("2023/2024", "valsts", None, None, None, None, "Kopā", "S", None, "x"),
    ("2023/2024", "valsts", None, None, None, None, "Kopā", "Kopā", 19, None),
    ("2022/2023", "valsts", None, None, None, None, "Kopā", "Kopā", 17, None),
]
GRADE_ROWS = [
    # ..., programmas_kods, programma, dzimums, skaits, (p), vid, (p), nepiet, (p), ipatsvars, (p)
    ("2023/2024", "valsts", None, None, None, None, "21011111", "Pamatizglītība", "Kopā",
     40, None, 7.456, None, 5, None, 12.25, None),
    ("2023/2024", "valsts", None, None, None, None, "31011011", "Vidējā", "Kopā",
     3, None, None, "c", None, "c", None, "z"),
]


def _make(path, learners=LEARNERS, grades=True):
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS open_data")
    con.execute("""CREATE OR REPLACE TABLE open_data.od_learners_general (macibu_gads VARCHAR, limenis VARCHAR,
        pasvaldibas_kods VARCHAR, pasvaldiba VARCHAR, iestades_kods VARCHAR, iestade VARCHAR, klase VARCHAR,
        dzimums VARCHAR, izglitojamo_skaits BIGINT, izglitojamo_skaits_pazime VARCHAR)""")
    con.executemany("INSERT INTO open_data.od_learners_general VALUES (?,?,?,?,?,?,?,?,?,?)", learners)
    if grades:
        con.execute("""CREATE OR REPLACE TABLE open_data.od_grades_by_programme (macibu_gads VARCHAR,
            limenis VARCHAR, pasvaldibas_kods VARCHAR, pasvaldiba VARCHAR, iestades_kods VARCHAR, iestade VARCHAR,
            programmas_kods VARCHAR, programma VARCHAR, dzimums VARCHAR,
            izglitojamo_skaits BIGINT, videjais_vertejums DOUBLE, nepietiekami BIGINT, nepietiekamo_ipatsvars DOUBLE,
            izglitojamo_skaits_pazime VARCHAR, videjais_vertejums_pazime VARCHAR, nepietiekami_pazime VARCHAR,
            nepietiekamo_ipatsvars_pazime VARCHAR)""")
        con.executemany("INSERT INTO open_data.od_grades_by_programme VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [r[:9] + (r[9], r[11], r[13], r[15], r[10], r[12], r[14], r[16]) for r in GRADE_ROWS])
    con.close()


@pytest.fixture
def exported(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _make(wh)
    out = tmp_path / "open_data"
    manifest = export_all(wh, out, datasets=["od_learners_general", "od_grades_by_programme"])
    return wh, out, manifest


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_layout_and_manifest(exported):
    _, out, manifest = exported
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert [d["name"] for d in manifest["datasets"]] == [GEN.name, GRADES.name]  # by number
    files = manifest["datasets"][0]["files"]
    assert [f["path"] for f in files] == [
        f"{GEN.name}/{GEN.name}_2022-2023.csv", f"{GEN.name}/{GEN.name}_2022-2023.parquet",
        f"{GEN.name}/{GEN.name}_2023-2024.csv", f"{GEN.name}/{GEN.name}_2023-2024.parquet",
        f"{GEN.name}/datapackage.json", f"{GEN.name}/dcat.jsonld"]
    assert [f["format"] for f in files] == ["CSV", "Parquet", "CSV", "Parquet", "JSON", "JSON-LD"]
    assert [f["period"] for f in files] == ["2022-2023", "2022-2023", "2023-2024", "2023-2024", None, None]
    assert [f["rows"] for f in files] == [1, 1, 7, 7, None, None]
    for f in files:
        assert f["sha256"] == _sha(out / f["path"]) and f["bytes"] == (out / f["path"]).stat().st_size
    assert manifest["catalog"]["sha256"] == _sha(out / "catalog.jsonld")
    assert sorted(p.name for p in (out / GEN.name).iterdir()) == sorted(f["path"].split("/")[1] for f in files)


def test_csv_format_symbols_and_order(exported):
    _, out, _ = exported
    data = (out / GEN.name / f"{GEN.name}_2023-2024.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n")
    lines = data.decode("utf-8").split("\n")[:-1]
    assert lines[0] == "macibu_gads,limenis,pasvaldibas_kods,pasvaldiba,iestades_kods,iestade,klase,dzimums,izglitojamo_skaits"
    assert lines[1:] == [
        "2023/2024,valsts,,,,,Kopā,Kopā,19",
        "2023/2024,valsts,,,,,Kopā,S,x",            # not available -> x
        "2023/2024,pašvaldība,0001000,Rīga,,,Kopā,Kopā,19",
        '2023/2024,iestāde,0001000,Rīga,9000000001,"Skola ""A"", Rīga",Kopā,Kopā,19',  # minimal quoting
        '2023/2024,iestāde,0001000,Rīga,9000000001,"Skola ""A"", Rīga",2,Kopā,7',     # 2 before 10
        '2023/2024,iestāde,0001000,Rīga,9000000001,"Skola ""A"", Rīga",2,V,c',         # suppressed -> c
        '2023/2024,iestāde,0001000,Rīga,9000000001,"Skola ""A"", Rīga",10,Kopā,12',
    ]


def test_csv_rounds_to_the_columns_decimals(exported):
    _, out, _ = exported
    lines = (out / GRADES.name / f"{GRADES.name}_2023-2024.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].endswith(",21011111,Pamatizglītība,Kopā,40,7.46,5,12.3")  # decimals 2 and 1
    assert lines[2].endswith(",31011011,Vidējā,Kopā,3,c,c,z")


def test_parquet_is_typed_with_flags(exported):
    _, out, _ = exported
    df = pl.read_parquet(out / GRADES.name / f"{GRADES.name}_2023-2024.parquet")
    names = [c.name for c in GRADES.published_columns()]
    flags = [c.name + "_pazime" for c in GRADES.value_columns()]
    assert df.columns == names + flags
    assert df.schema["izglitojamo_skaits"] == pl.Int64 and df.schema["videjais_vertejums"] == pl.Float64
    assert df["videjais_vertejums"].to_list() == [7.46, None]
    assert df["nepietiekamo_ipatsvars"].to_list() == [12.3, None]
    assert df["nepietiekamo_ipatsvars_pazime"].to_list() == [None, "z"]
    gen = pl.read_parquet(out / GEN.name / f"{GEN.name}_2023-2024.parquet")
    csv = pl.read_csv(out / GEN.name / f"{GEN.name}_2023-2024.csv", infer_schema=False)
    assert gen["klase"].to_list() == csv["klase"].to_list()  # same rows, same order
    assert gen["izglitojamo_skaits_pazime"].to_list() == [None, "x", None, None, None, "c", None]


def test_datapackage(exported):
    _, out, manifest = exported
    pkg = json.loads((out / GEN.name / "datapackage.json").read_text(encoding="utf-8"))
    assert pkg["name"] == GEN.name and pkg["id"] == CAT.uri(GEN) and pkg["profile"] == "tabular-data-package"
    assert pkg["licenses"][0]["path"] == CAT.licence_uri and pkg["keywords"][0] == GEN.keywords_lv[0]
    assert {c["role"] for c in pkg["contributors"]} == {"publisher", "maintainer"}
    by_path = {f["path"].split("/")[1]: f for f in manifest["datasets"][0]["files"]}
    assert [r["path"] for r in pkg["resources"]] == [p for p in by_path if p.endswith((".csv", ".parquet"))]
    for r in pkg["resources"]:
        f = by_path[r["path"]]
        assert r["hash"] == "sha256:" + f["sha256"] and r["bytes"] == f["bytes"]
        assert r["schema"]["missingValues"] == ["", "c", "z", "x"]
        assert r["schema"]["primaryKey"] == ["macibu_gads", "limenis", "pasvaldibas_kods", "iestades_kods",
                                             "klase", "dzimums"]
    csv = pkg["resources"][0]
    assert (csv["format"], csv["mediatype"], csv["encoding"]) == ("csv", "text/csv", "utf-8")
    header = (out / GEN.name / csv["path"]).read_text(encoding="utf-8").split("\n")[0].split(",")
    assert [f["name"] for f in csv["schema"]["fields"]] == header
    field = csv["schema"]["fields"][-1]
    assert (field["title"], field["description"], field["type"]) == ("Izglītojamo skaits", "Number of learners", "integer")
    assert [f["name"] for f in pkg["resources"][1]["schema"]["fields"]][-1] == "izglitojamo_skaits_pazime"


def test_dcat(exported):
    _, out, manifest = exported
    doc = json.loads((out / GEN.name / "dcat.jsonld").read_text(encoding="utf-8"))
    assert doc["@id"] == CAT.uri(GEN) and doc["@type"] == "dcat:Dataset"
    assert doc["dcat:theme"]["@id"].endswith("/data-theme/EDUC")
    assert doc["dct:accrualPeriodicity"]["@id"].endswith("/frequency/ANNUAL")
    assert doc["dct:spatial"]["@id"].endswith("/country/LVA")
    assert doc["dct:temporal"]["dcat:startDate"]["@value"] == "2022-09-01"
    assert doc["dct:temporal"]["dcat:endDate"]["@value"] == "2024-08-31"
    assert doc["dct:modified"]["@value"] == "2023-09-01"  # the data's own date, not the run's
    assert doc["dcat:contactPoint"]["vcard:hasEmail"]["@id"] == "mailto:" + CAT.contact_email
    assert {t["@language"] for t in doc["dct:title"]} == {"lv", "en"}
    files = {f["path"].split("/")[1]: f for f in manifest["datasets"][0]["files"]}
    dists = doc["dcat:distribution"]
    assert [d["dcat:downloadURL"]["@id"] for d in dists] == [p for p in files if p != "dcat.jsonld"]
    for d in dists:
        f = files[d["dcat:downloadURL"]["@id"]]
        assert d["spdx:checksum"]["spdx:checksumValue"] == f["sha256"]
        assert d["dcat:byteSize"]["@value"] == str(f["bytes"])
    catalog = json.loads((out / "catalog.jsonld").read_text(encoding="utf-8"))
    assert catalog["@type"] == "dcat:Catalog"
    assert [n["@id"] for n in catalog["dcat:dataset"]] == [CAT.uri(GEN), CAT.uri(GRADES)]
    assert catalog["dcat:dataset"][0]["dcat:distribution"][0]["dcat:downloadURL"]["@id"].startswith(GEN.name + "/")


def test_re_export_is_byte_identical_and_leaves_files_alone(exported):
    wh, out, manifest = exported
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    again = export_all(wh, out, datasets=["od_learners_general", "od_grades_by_programme"])
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert again == manifest and after == before


def test_changed_year_changes_only_its_files_and_stale_years_go(exported):
    wh, out, manifest = exported
    rows = [r for r in LEARNERS if r[0] != "2022/2023"] + [("2024/2025", "valsts", None, None, None, None,
                                                            "Kopā", "Kopā", 21, None)]
    _make(wh, rows)
    new = export_all(wh, out, datasets=["od_learners_general", "od_grades_by_programme"])
    old_files = {f["path"]: f["sha256"] for f in manifest["datasets"][0]["files"]}
    new_files = {f["path"]: f["sha256"] for f in new["datasets"][0]["files"]}
    assert not (out / GEN.name / f"{GEN.name}_2022-2023.csv").exists()
    assert (out / GEN.name / f"{GEN.name}_2024-2025.parquet").exists()
    same = f"{GEN.name}/{GEN.name}_2023-2024.csv"
    assert new_files[same] == old_files[same]
    assert new["datasets"][1] == manifest["datasets"][1]


def test_partial_export_keeps_the_other_entries(exported):
    wh, out, manifest = exported
    again = export_all(wh, out, datasets=["3"])
    assert [d["name"] for d in again["datasets"]] == [GEN.name, GRADES.name]
    assert again == manifest


def test_missing_table_is_named(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _make(wh, grades=False)
    with pytest.raises(ExportError, match="open_data.od_grades_by_programme"):
        export_all(wh, tmp_path / "out", datasets=["od_learners_general", "od_grades_by_programme"])
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_missing_flag_column_is_named(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _make(wh, grades=False)
    con = duckdb.connect(str(wh))
    con.execute("ALTER TABLE open_data.od_learners_general DROP COLUMN izglitojamo_skaits_pazime")
    con.close()
    with pytest.raises(ExportError, match="izglitojamo_skaits_pazime"):
        export_all(wh, tmp_path / "out", datasets=["3"])


def test_period_slug():
    assert period_slug("2023/2024") == "2023-2024"
    for bad in ("2023/24", "2023/2025", None):
        with pytest.raises(ExportError):
            period_slug(bad)


def test_rows_repeating_on_the_key_are_refused(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _make(wh, LEARNERS + [LEARNERS[0]], grades=False)
    with pytest.raises(ExportError, match="repeat on the key"):
        export_all(wh, tmp_path / "out", datasets=["3"])


def test_dagster_asset_materializes_and_depends_on_the_od_models(tmp_path):
    import dagster as dg

    from pipelines.defs.ingest.resources import DuckDBWarehouse
    from pipelines.defs.open_data.assets import KEY, exports
    from pipelines.settings import PROJECT_ROOT

    models = PROJECT_ROOT / "dbt_project" / "models" / "open_data"
    deps = {k.to_user_string() for k in exports.asset_deps[KEY]}
    assert deps == {f"open_data/{d.model}" for d in CAT.datasets if (models / f"{d.model}.sql").exists()}
    wh = tmp_path / "warehouse.duckdb"
    _make(wh)
    out = tmp_path / "exports"
    result = dg.materialize(
        [exports], resources={"warehouse": DuckDBWarehouse(path=str(wh))},
        run_config={"ops": {KEY.to_python_identifier(): {"config": {"datasets": ["3", "11"], "out_dir": str(out)}}}})
    assert result.success
    md = result.asset_materializations_for_node(KEY.to_python_identifier())[-1].metadata
    assert md["datasets"].value == 2 and md["files"].value == 6 + 4
    assert md["rows_per_dataset"].value == {GEN.name: 8, GRADES.name: 2}
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["datasets"][0]["name"] == GEN.name
