"""Every writer's output parsed back with Polars / lxml / json (not with the project's ingest) and checked
against the tiny country: row counts, encodings, BOMs, quoting, line ends, JSON-stat structure and order."""
from __future__ import annotations

import datetime as dt
import io
import json

import polars as pl
import pytest
from lxml import etree

from pipelines.generator import activity
from pipelines.generator.writers import (base, csp, exams, izm_csv, nva, vendor_a, vendor_b, viis_public, viis_xml,
                                         vzd)
from pipelines.settings import REFERENCE_DIR
from tests.fixtures.tiny_country import tiny_country


@pytest.fixture(scope="module")
def country():
    return tiny_country()


def render(doc: base.Doc) -> bytes:
    return base.to_bytes(doc, base.render_lines(doc))


def vendor_docs(country, year, module):
    g = activity.grades(country, year)
    p, a = activity.attendance(country, year)
    months = sorted(set(p["month"].to_list()))
    subs = activity.submissions(country, year, vendor_a.PERIODS + months)
    docs, ev = module.build(country, year, g, p, a, subs)
    return {d.path.rsplit("/", 1)[1]: d for d in docs}, ev, subs, (g, p, a)


def test_viis_xml_counts_codes_and_escaping(country):
    for year, atvk_ludza, n_inst in ((2020, "0681000", 6), (2021, "0680000", 5)):
        data = render(viis_xml.build(country, year))
        root = etree.fromstring(data)
        assert root.tag == "VIISIzraksts" and root.get("macibuGads") == f"{year}/{year + 1}"
        spells = country.enrolments.filter(pl.col("year_started") == year)
        assert len(root.findall("Izglitojamie/Izglitojamais")) == spells["person_key"].n_unique()
        assert len(root.findall("Izglitojamie/Izglitojamais/Macibas")) == spells.height
        inst = root.findall("Iestades/Iestade")
        assert len(inst) == n_inst  # the Zilupe school closed on 30 Jun 2021
        ludza = next(i for i in inst if i.get("regNr") == "4312900002")
        assert ludza.get("atvk") == atvk_ludza and ludza.get("veids") == "VISP"
        names = {p.get("uzvards") for p in root.findall("Izglitojamie/Izglitojamais")}
        assert "O'Konore & <Dēls>" in names  # escaped on the way out, restored by the parser
        # every record element starts on its own line
        lines = [e.sourceline for e in root.iter("Macibas", "Izglitojamais", "Amats", "Iestade")]
        assert len(lines) == len(set(lines))
        amats = root.findall("Darbinieki/Darbinieks/Amats")
        assert all(a.get("beiguDatums") is None or a.get("beiguDatums") <= f"{year + 1}-08-31" for a in amats)
    assert b"&amp; &lt;D" in data


def test_viis_public_matches_reference_style(country):
    data = render(viis_public.build(country, 2020))
    ref = (REFERENCE_DIR / "viis_institutions_export_2020-12.txt").read_bytes()
    assert data[:6] == ref[:6] == b"\xef\xbb\xbf\xef\xbb\xbf"
    text = data[6:].decode("utf-8")
    assert text.split("\r\n")[0] == ref[6:].decode("utf-8").split("\n")[0]  # identical header
    lines = text.split("\r\n")
    assert lines[-1] == "" and all(line.endswith("|") for line in lines[:-1])
    assert "\n" not in text.replace("\r\n", "")
    assert '"Zilupes ""Mazā"" sākumskola"' in text
    assert '|0|0|"' in text and "|Nē|" in text
    df = pl.read_csv(io.StringIO(text.replace("\r\n", "\n")), separator="|", infer_schema=False)
    assert df.height == 6
    assert df["Reģistrācijas numurs"].str.len_chars().to_list() == [10] * 6
    assert set(df["Vadītājs"].fill_null("").to_list()) == {""}


def test_izm_csv_format_and_counts(country):
    ref_header = (REFERENCE_DIR / "izm_general_schools_2020-21.csv").read_text(encoding="utf-8").split("\n")[0]
    old = render(izm_csv.build(country, 2020)).decode("utf-8")
    new = render(izm_csv.build(country, 2021)).decode("utf-8")
    assert old.split("\n")[0] == ref_header and not old.startswith("\ufeff") and "\r" not in old
    d_old = pl.read_csv(io.StringIO(old), infer_schema=False)
    d_new = pl.read_csv(io.StringIO(new), infer_schema=False)
    assert sorted(d_old["Novads/republikas pilsēta"].unique().to_list()) == ["LUDZAS NOVADS", "RĪGA", "ZILUPES NOVADS"]
    assert sorted(d_new["Novads/republikas pilsēta"].unique().to_list()) == ["Ludzas novads", "Rīga"]
    assert d_old.height == 3 and d_new.height == 2
    on_day = country.learner_years.filter((pl.col("year") == 2020) & (pl.col("start_date") <= dt.date(2020, 9, 1)))
    assert d_old["Izglītojamo skaits 1. - 12. klasē"].cast(pl.Int64).sum() == on_day.height
    assert d_old.filter(pl.col("Iestādes reģistrācijas Nr.") == "4312900002")["Bērnu skaits pirmsskolas programmās"].item() == "1"
    assert '"KRAUJAS IELA 2, LUDZA, LUDZAS NOVADS, LV-5701"' in old  # quoted where needed


def test_vendor_a_windows_1257_rows_per_lesson(country):
    docs, ev, subs, (g, p, a) = vendor_docs(country, 2020, vendor_a)
    assert any(n.startswith("vertejumi_2020_") for n in docs) and any(n.startswith("kavejumi_2020_2020-") for n in docs)
    grades = render(docs["vertejumi_2020_GADA.csv"])
    with pytest.raises(UnicodeDecodeError):
        grades.decode("utf-8")
    text = grades.decode("windows-1257")
    df = pl.read_csv(io.StringIO(text), separator=";", infer_schema=False)
    assert df.columns[:3] == ["Iestādes reģ. nr.", "Personas kods", "Vārds Uzvārds"]
    assert df["Iesniegts"].n_unique() == df["Iestādes reģ. nr."].n_unique()  # one timestamp per batch
    assert set(df["Periods"].to_list()) == {"GADA"}
    missing = subs.filter(pl.col("status") == "missing")
    expected = g.filter((pl.col("vendor") == "A") & (pl.col("period") == "GADA")).join(
        missing.filter(pl.col("period") == "GADA").select("reg_nr"), on="reg_nr", how="anti")
    assert df.height == expected.height
    # absences: one row per missed lesson
    total = 0
    for name, doc in docs.items():
        if name.startswith("kavejumi_"):
            k = pl.read_csv(io.StringIO(render(doc).decode("windows-1257")), separator=";", infer_schema=False)
            assert set(k["Iemesls"].to_list()) <= {"S", "C", "N"}
            assert k["Stunda"].cast(pl.Int64).is_between(1, 7).all()
            assert k.select("Personas kods", "Datums", "Stunda").is_duplicated().sum() == 0
            total += k.height
    kept = a.filter(pl.col("vendor") == "A").with_columns(pl.col("date").dt.strftime("%Y-%m").alias("period")).join(
        missing.select("reg_nr", "period"), on=["reg_nr", "period"], how="anti")
    assert total == kept["lessons"].sum()


def test_vendor_b_jsonl(country):
    docs, ev, subs, (g, p, a) = vendor_docs(country, 2021, vendor_b)
    att = [d for n, d in docs.items() if n.startswith("attendance_")]
    assert att
    recs = [json.loads(line) for d in att for line in render(d).decode("utf-8").splitlines()]
    assert recs and set(recs[0]) == {"school_id", "student_code", "date", "lessons_missed", "reason", "recorded_at"}
    assert all(isinstance(r["lessons_missed"], int) and r["reason"] in {"sick", "excused", "unexcused"} for r in recs)
    gr = [json.loads(line) for n, d in docs.items() if n.startswith("grades_") for line in render(d).decode().splitlines()]
    marks = {r["mark"] for r in gr}
    assert marks <= {str(i) for i in range(1, 11)} | {"NA", "PASS", "FAIL", "STARTED", "CONTINUING", "ACHIEVED", "PROFICIENT"}
    assert {r["term"] for r in gr} <= {"T1", "T2", "FINAL"}
    assert all(r["school_id"] == "4312900002" for r in gr)  # vendor B's school only
    frame = pl.read_ndjson(io.BytesIO(render(att[0])))
    assert frame.schema["lessons_missed"] == pl.Int64


def test_exams_csv(country):
    res = activity.exams(country, 2020)
    data = render(exams.build(country, 2020, res))
    assert not data.startswith(b"\xef\xbb\xbf")
    df = pl.read_csv(io.BytesIO(data), infer_schema=False)
    comp = country.completions.filter((pl.col("year") == 2020) & pl.col("level").is_in(["basic", "secondary"]))
    assert df.height == 4 * comp.height
    assert df["rezultats_procenti"].cast(pl.Float64).is_between(0, 100).all()
    assert set(df["limenis"]) <= {"PAMATA", "OPTIMALAIS", "AUGSTAKAIS"}


def test_csp_jsonstat_structure_and_order(country):
    for year, n_units in ((2020, 3), (2021, 2)):
        doc = json.loads(render(csp.population(country, year)))
        assert doc["version"] == "2.0" and doc["class"] == "dataset"
        assert doc["id"] == ["ATVK", "SEX", "AGE", "TIME"] and doc["size"] == [n_units, 2, 101, 1]
        assert len(doc["value"]) == n_units * 2 * 101
        idx = doc["dimension"]["ATVK"]["category"]["index"]
        assert all(k.startswith("LV") and len(k) == 9 for k in idx)
        assert doc["dimension"]["AGE"]["category"]["index"]["Y_GE100"] == 100
    doc = json.loads(render(csp.population(country, 2021)))
    pop = country.population.filter(pl.col("calendar_year") == 2022)
    want = pop.filter((pl.col("atvk_new") == "0680000") & (pl.col("sex") == "F") & (pl.col("age") == 37))["population"].item()
    i = doc["dimension"]["ATVK"]["category"]["index"]["LV0680000"]
    assert doc["value"][((i * 2) + 1) * 101 + 37] == want  # row-major: ATVK, SEX, AGE, TIME
    assert doc["dimension"]["TIME"]["category"]["index"] == {"2022": 0}


def test_csp_pxweb_wages_and_outcomes(country):
    text = render(csp.wages(country, 2021)).decode("utf-8")
    lines = text.split("\n")
    assert lines[0].startswith('"') and lines[0].endswith('"') and lines[1] == ""
    assert lines[2] == ('"Teritoriālā vienība","Gads","Vidējā mēneša bruto darba samaksa (euro)",'
                        '"Nodarbinātības līmenis (%)"')
    df = pl.read_csv(io.StringIO(text), skip_rows=2)
    assert df["Teritoriālā vienība"].to_list()[0] == "LV0000000 Latvija"
    assert "LV0010000 Rīga" in df["Teritoriālā vienība"].to_list() and df.height == 3
    assert df["Gads"].to_list() == [2022] * 3
    out = csp.graduate_outcomes(country, 2020, activity.graduate_outcomes(country, 2020))
    go = pl.read_csv(io.BytesIO(render(out)), infer_schema=False)
    assert go.height == 4 and set(go["nodarbinats"]) <= {"true", "false"}
    assert csp.graduate_outcomes(country, 2023, activity.graduate_outcomes(country, 2023)) is None


def test_vzd_hash_qualifier(country):
    text = render(vzd.build(country, 2020)).decode("utf-8")
    assert text.startswith("#KODS#;#STD#;#ATVK#;#KOORD_X#;#KOORD_Y#;#DD_N#;#DD_E#\n")
    df = pl.read_csv(io.StringIO(text), separator=";", quote_char="#", infer_schema=False)
    assert set(df["KODS"]) == set(country.addresses["address_code"])  # every address is referred to
    assert df.filter(pl.col("KODS") == "100000003")["ATVK"].item() == "0687000"  # old code before 2021
    assert df.filter(pl.col("KODS") == "100000003")["STD"].item().endswith("ZILUPES NOVADS, LV-5751")
    assert "#100000003#;#SKOLAS IELA 3, ZILUPE, ZILUPES NOVADS, LV-5751#;#0687000#;745000.0;" in text


def test_nva_csv(country):
    regs = activity.unemployed(country, 2021)
    df = pl.read_csv(io.BytesIO(render(nva.build(country, 2021, regs))), infer_schema=False)
    assert df.columns == ["personas_kods", "registracijas_datums", "izslegsanas_datums", "filiale"]
    assert df.height == regs.height
    assert df["registracijas_datums"].is_between("2021-09-01", "2022-08-31").all()


def test_fast_renderer_equals_line_renderer(country):
    """The big files go through Polars' writers; the line renderer is the reference for the same bytes."""
    docs_a, *_ = vendor_docs(country, 2020, vendor_a)
    docs_b, *_ = vendor_docs(country, 2020, vendor_b)
    others = [exams.build(country, 2020, activity.exams(country, 2020)), nva.build(country, 2021, activity.unemployed(country, 2021)),
              izm_csv.build(country, 2020)]
    checked = 0
    for doc in [*docs_a.values(), *docs_b.values(), *others]:
        assert base.fast_ok(doc)
        data, n_head, _ = base.render_fast(doc)
        assert base.encode_fast(doc, data, doc.encoding) == render(doc), doc.path
        checked += 1
    assert checked > 20
