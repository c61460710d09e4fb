"""The indicator catalogue (models/indicators/) validates, covers the four domains, and the generator and the
roll-up macro do what the catalogue promises (roll-up semantics checked by rendering the macro and running it
on DuckDB, without dbt)."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from pipelines.indicators import CatalogueError, generate, load_catalogue, load_dimensions
from pipelines.indicators.catalogue import CATALOGUE_DIR, DOMAIN_FOLDERS, MEASURES, UNIT_COLUMN
from pipelines.settings import PROJECT_ROOT

DBT_DIR = PROJECT_ROOT / "dbt_project"
MACRO = DBT_DIR / "macros" / "indicators" / "indicator_rollup.sql"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_catalogue_is_large_and_covers_every_domain(catalogue):
    assert len(catalogue) >= 35
    assert {e.domain for e in catalogue} == {1, 2, 3, 4}
    ids = [e.id for e in catalogue]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)


def test_issue_minimum_indicators_present(catalogue):
    ids = {e.id for e in catalogue}
    required = {"ENR_TOTAL", "GER", "REPEAT_RATE", "DROPOUT_RATE", "TRANS_9_10", "AVG_GRADE", "LOW_ACH_SHARE",
                "CE_MEAN", "CE_BELOW_MIN", "ABS_RATE", "ABS_UNEXC_RATE", "ABS_ILL_RATE", "CHRONIC_ABS",
                "SEVERE_ABS", "PTR", "CLASS_SIZE", "QUAL_TEACH", "TEACH_50PLUS", "TEACH_ATTRITION",
                "SMALL_SCHOOL_SHARE", "DIST_MEDIAN", "GRAD_EMP_1Y", "GRAD_WAGE_1Y"}
    assert required <= ids, required - ids


def test_every_entry_is_complete(catalogue):
    dims = load_dimensions()
    for e in catalogue:
        assert e.path.parent.name == DOMAIN_FOLDERS[e.domain]
        assert len(e.definition) >= 40, e.id
        assert set(e.dimensions) <= set(dims), e.id
        assert e.levels and (e.grain == "institution" or "institution" not in e.levels)
        assert e.unit_test["expect"]["rows"], e.id
        assert e.scale == (100 if e.unit == "percent" and e.id != "CE_MEAN" else 1), e.id
        # the unit test's expected rows speak the finest grain's language
        allowed = {"school_year", UNIT_COLUMN[e.grain], *e.dimensions, *MEASURES[e.aggregation]}
        for row in e.unit_test["expect"]["rows"]:
            assert set(row) <= allowed, (e.id, set(row) - allowed)


def test_refs_name_existing_warehouse_models(catalogue):
    models = {p.stem for p in (DBT_DIR / "models").rglob("*.sql") if "generated" not in p.parts}
    if not models:
        pytest.skip("dbt models not written yet")
    for e in catalogue:
        assert set(e.refs) <= models, (e.id, set(e.refs) - models)


def _copy_catalogue(tmp_path: Path) -> Path:
    dst = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, dst)
    return dst


def _edit(path: Path, **changes) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc.update(changes)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("changes, field, fragment", [
    ({"dimensions": ["sex", "colour"]}, "dimensions", "colour"),
    ({"unit": "furlongs"}, "unit", "furlongs"),
    ({"levels": ["institution", "county"]}, "levels", "county"),
    ({"aggregation": "mean"}, "aggregation", "mean"),
    ({"min_denominator": -1}, "min_denominator", "-1"),
    ({"sql": "select 1"}, "sql", "ref"),
    ({"domain": 2}, "domain", "2_teaching"),
    ({"id": "abs rate"}, "id", "upper-case"),
    ({"unit_test": {"given": [{"input": "ref('fct_grades')", "rows": []}], "expect": {"rows": [{"a": 1}]}}},
     "unit_test.given", "int_learner_years"),
    ({"name_en": None}, "name_en", "required"),
])
def test_errors_name_the_file_and_the_field(tmp_path, changes, field, fragment):
    root = _copy_catalogue(tmp_path)
    target = root / "3_environment" / "ABS_RATE.yaml"
    _edit(target, **changes)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(root)
    assert err.value.path == str(target)
    assert err.value.field == field
    assert "ABS_RATE.yaml" in str(err.value) and f"'{field}'" in str(err.value) and fragment in str(err.value)


def test_duplicate_ids_are_rejected(tmp_path):
    root = _copy_catalogue(tmp_path)
    shutil.copy(root / "3_environment" / "ABS_RATE.yaml", root / "3_environment" / "ABS_RATE.yml")
    with pytest.raises(CatalogueError, match="already defined"):
        load_catalogue(root)


def test_generator_writes_models_deterministically_and_fast(tmp_path, catalogue):
    out = tmp_path / "generated"
    started = time.perf_counter()
    files = generate(out_dir=out)
    assert time.perf_counter() - started < 5
    names = sorted(Path(f).name for f in files)
    assert len(names) == 3 * len(catalogue) + 3
    assert {"indicator_values.sql", "indicator_catalogue.sql", "_indicators.yml", "ind_ptr.sql",
            "ind_ptr__finest.sql", "ind_ptr.yml"} <= set(names)
    first = {n: (out / n).read_bytes() for n in names}
    mtimes = {n: (out / n).stat().st_mtime_ns for n in names}
    (out / "ind_gone.sql").write_text("select 1")  # a stale model of a deleted entry
    generate(out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == names
    assert {n: (out / n).read_bytes() for n in names} == first
    assert {n: (out / n).stat().st_mtime_ns for n in names} == mtimes  # unchanged files are not rewritten
    values = (out / "indicator_values.sql").read_text()
    assert values.count("ref(") == len(catalogue)
    schema = yaml.safe_load((out / "ind_ptr.yml").read_text())
    assert schema["unit_tests"][0]["model"] == "ind_ptr__finest"
    rollup = next(m for m in schema["models"] if m["name"] == "ind_ptr")
    assert rollup["config"]["contract"] == {"enforced": True}
    assert "yearly" in (out / "ind_ptr.sql").read_text()


def test_catalogue_model_escapes_quotes(tmp_path):
    root = _copy_catalogue(tmp_path)
    _edit(root / "3_environment" / "ABS_RATE.yaml", name_en="Pupils' absence rate")
    out = tmp_path / "generated"
    generate(root, out)
    sql = (out / "indicator_catalogue.sql").read_text()
    assert "'Pupils'' absence rate'" in sql


# --- the roll-up macro, rendered with plain Jinja and run on DuckDB -------------------------------------------

ALL_DIMS = list(load_dimensions())


def _render_rollup(con, **kwargs) -> str:
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    template = env.from_string(MACRO.read_text() + "{{ indicator_rollup(**args) }}")
    return template.render(
        args={"all_dimensions": ALL_DIMS, "finest": "finest_input", **kwargs},
        ref=lambda name: name, is_incremental=lambda: False, school_year_filter=lambda col: "",
    )


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("""
        create table dim_institutions as select * from (values
            (2023, 'A', '0001000'), (2023, 'B', '0001000'), (2023, 'C', '0002000')
        ) t(school_year, institution_id, municipality_code)""")
    return con


def _rows(con, sql):
    cols = ["level", "unit_code", "sex", "grade", "numerator", "denominator", "value", "n_observations"]
    rel = con.sql(sql)
    assert rel.columns[:4] == ["indicator_id", "level", "unit_code", "school_year"]
    assert rel.columns[4:4 + len(ALL_DIMS)] == ALL_DIMS
    return {(r[0], r[1], r[2], r[3]): r[4:] for r in con.sql(f"select {', '.join(cols)} from ({sql})").fetchall()}


def test_ratio_rollup_sums_numerators_and_denominators(con):
    con.execute("""create table finest_input as select * from (values
        (2023, 'A', 'F', 1, 1, 10), (2023, 'A', 'M', 1, 3, 10), (2023, 'B', 'F', 1, 8, 10),
        (2023, 'B', 'F', 2, 10, 90), (2023, 'C', 'M', 1, 5, 5)
    ) t(school_year, institution_id, sex, grade, numerator, denominator)""")
    rows = _rows(con, _render_rollup(con, indicator_id="X", grain="institution",
                                     levels=["institution", "municipality", "national"], dimensions=["sex", "grade"],
                                     aggregation="ratio", scale=100))
    # municipality 0001000 = (1+3+8+10)/(10+10+10+90) = 22/120, not the mean of A (20 %) and B (18 %)
    assert rows[("municipality", "0001000", "_T", "_T")][:3] == (22.0, 120.0, pytest.approx(100 * 22 / 120))
    assert rows[("institution", "A", "_T", "_T")][2] == pytest.approx(20.0)
    assert rows[("institution", "B", "F", "_T")][:2] == (18.0, 100.0)
    assert rows[("institution", "B", "_T", "2")][:2] == (10.0, 90.0)
    assert rows[("national", "LV", "M", "1")][:2] == (8.0, 15.0)
    assert rows[("national", "LV", "_T", "_T")][:2] == (27.0, 125.0)
    # 3 institutions x (its combos + totals) ... every level has every subset of {sex, grade}
    assert {k[0] for k in rows} == {"institution", "municipality", "national"}
    out = con.sql(_render_rollup(con, indicator_id="X", grain="institution", levels=["national"],
                                 dimensions=["sex", "grade"], aggregation="ratio", scale=100))
    assert con.sql("select distinct subject, programme_kind, education_level, age_group from out").fetchall() == [
        ("_Z", "_Z", "_Z", "_Z")]


def test_median_and_distinct_are_recomputed_at_each_level(con):
    con.execute("""create table finest_input as select * from (values
        (2023, 'A', 1.0), (2023, 'A', 2.0), (2023, 'B', 10.0), (2023, 'C', 4.0)
    ) t(school_year, institution_id, value)""")
    rows = _rows(con, _render_rollup(con, indicator_id="M", grain="institution",
                                     levels=["institution", "municipality", "national"], dimensions=[],
                                     aggregation="median", scale=1))
    assert rows[("institution", "A", "_Z", "_Z")][2:] == (1.5, 2)
    assert rows[("municipality", "0001000", "_Z", "_Z")][2:] == (2.0, 3)  # median(1, 2, 10), not median of medians
    assert rows[("national", "LV", "_Z", "_Z")][2:] == (3.0, 4)
    assert rows[("national", "LV", "_Z", "_Z")][:2] == (None, None)

    con.execute("drop table finest_input")
    con.execute("""create table finest_input as select * from (values
        (2023, 'A', 'p1', true), (2023, 'B', 'p1', true), (2023, 'B', 'p2', false), (2023, 'C', 'p3', false)
    ) t(school_year, institution_id, person_id, is_numerator)""")
    rows = _rows(con, _render_rollup(con, indicator_id="D", grain="institution",
                                     levels=["institution", "municipality", "national"], dimensions=[],
                                     aggregation="distinct", scale=100))
    assert rows[("institution", "B", "_Z", "_Z")][:4] == (1.0, 2.0, 50.0, 2)
    assert rows[("municipality", "0001000", "_Z", "_Z")][:2] == (1.0, 2.0)  # p1 counted once
    assert rows[("national", "LV", "_Z", "_Z")][:2] == (1.0, 3.0)


def test_municipality_grain_and_count(con):
    con.execute("""create table finest_input as select * from (values
        (2023, '0001000', 'F', 3, 4), (2023, '0002000', 'F', 1, 4), (2023, '0002000', 'M', 0, 0)
    ) t(school_year, municipality_code, sex, numerator, denominator)""")
    rows = _rows(con, _render_rollup(con, indicator_id="G", grain="municipality", levels=["municipality", "national"],
                                     dimensions=["sex"], aggregation="ratio", scale=100))
    assert rows[("municipality", "0002000", "M", "_Z")][2] is None  # denominator 0 -> null value
    assert rows[("national", "LV", "F", "_Z")][:3] == (4.0, 8.0, 50.0)
    assert not any(k[0] == "institution" for k in rows)
    count = _rows(con, _render_rollup(con, indicator_id="C", grain="municipality", levels=["national"],
                                      dimensions=[], aggregation="count", scale=1))
    assert count == {("national", "LV", "_Z", "_Z"): (4.0, None, 4.0, None)}


def test_generated_rollup_passes_the_entry_to_the_macro(tmp_path, catalogue):
    out = tmp_path / "generated"
    generate(out_dir=out)
    text = (out / "ind_ger.sql").read_text()
    assert re.search(r'levels=\["municipality", "national"\]', text)
    assert 'grain="municipality"' in text and 'dimensions=["education_level", "sex"]' in text
