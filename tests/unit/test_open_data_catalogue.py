"""The open-data definitions (open_data/): the loader rejects broken definitions naming file and field, the 12
real definitions load and follow the shared conventions, and each one matches its dbt cells model (the columns
declared in _cells.yml and the key the SQL passes to od_row_key)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from pipelines.open_data import catalogue
from pipelines.open_data.catalogue import TOTAL, DefinitionError, load, load_dataset
from pipelines.settings import PROJECT_ROOT

CELLS_DIR = PROJECT_ROOT / "dbt_project" / "models" / "open_data" / "cells"
DBT_TYPES = {"string": "varchar", "integer": "bigint", "number": "double", "date": "date"}
GEOGRAPHY = ["macibu_gads", "limenis", "pasvaldibas_kods", "pasvaldiba", "iestades_kods", "iestade"]
GEOGRAPHY_ROLES = ["period", "level", "municipality", "attribute", "institution", "attribute"]
POPULATIONS = {  # DESIGN §6 / the brief: dataset number -> population
    1: None, 2: "learners_preschool", 3: "learners_general", 4: "learners_vocational", 5: "learners_preschool",
    6: "learners_general", 7: "learners_vocational", 8: "academic_staff", 9: "teaching_staff", 10: None,
    11: "graded_learners", 12: "absent_learners"}


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return load()


@pytest.fixture(scope="module")
def cells_yml() -> dict[str, dict]:
    doc = yaml.safe_load((CELLS_DIR / "_cells.yml").read_text(encoding="utf-8"))
    return {m["name"]: m for m in doc["models"]}


# ------------------------------------------------------------------------------------------- the 12 definitions
def test_twelve_datasets_numbered_1_to_12(cat):
    assert [d.number for d in cat.datasets] == list(range(1, 13))
    assert len({d.name for d in cat.datasets}) == 12 and len({d.model for d in cat.datasets}) == 12
    for d in cat.datasets:
        assert d.path.name.startswith(f"{d.number:02d}_"), d.path
        assert cat.uri(d) == cat.uri_base + d.name
        assert cat.dataset(d.name) is d and cat.dataset(d.number) is d and cat.dataset(d.model) is d


def test_catalogue_shared_fields(cat):
    assert cat.organization and catalogue.NAME_PATTERN.match(cat.organization)
    assert cat.licence_uri.startswith("https://") and cat.uri_base.endswith("/")
    assert "@" in cat.contact_email


@pytest.mark.parametrize("number", range(1, 13))
def test_dataset_conventions(cat, number):
    d = cat.dataset(number)
    assert d.disclosure.population == POPULATIONS[number]
    assert d.columns[0].name == "macibu_gads" and d.columns[0].role == "period"
    assert d.title_lv and d.title_en and d.description_lv and d.description_en
    assert d.keywords_lv and d.keywords_en and d.update_frequency == "ANNUAL"
    assert d.disclosure.threshold == 5 and d.disclosure.rule_lv and d.disclosure.rule_en
    for c in d.columns:
        assert c.label_lv and c.label_en, c.name
        if c.type == "number":
            assert c.decimals is not None, f"{d.name}.{c.name}: exports round numbers: decimals needed"
    if d.disclosure.population is None:
        assert not d.value_columns(), "a dataset without a population has no values to protect"
        return
    # datasets with counts: the geography block, then the breakdowns, then the values
    assert [c.name for c in d.columns[:6]] == GEOGRAPHY
    assert [c.role for c in d.columns[:6]] == GEOGRAPHY_ROLES
    assert any(c.role == "count" for c in d.columns)
    roles = [c.role for c in d.columns[6:]]
    first_value = min(i for i, r in enumerate(roles) if r in catalogue.VALUE_ROLES)
    assert all(r in ("dimension", "attribute") for r in roles[:first_value])
    assert all(r in catalogue.VALUE_ROLES for r in roles[first_value:])


def test_datasets_over_one_population_agree_on_dimensions_and_measures(cat):
    """Shared cells are matched by canonical dimension and measure: within a population a canonical name means
    one column name and type everywhere (so the cells models can be compared directly)."""
    by_pop: dict[str, list] = {}
    for d in cat.datasets:
        if d.disclosure.population:
            by_pop.setdefault(d.disclosure.population, []).append(d)
    assert {p: len(v) for p, v in by_pop.items() if len(v) > 1} == {
        "learners_preschool": 2, "learners_general": 2, "learners_vocational": 2}
    for pop, ds in by_pop.items():
        seen: dict[tuple[str, str], tuple[str, str]] = {}
        for d in ds:
            for c in d.columns:
                canon = c.dimension if c.role == "dimension" else c.measure if c.role in ("count", "sum") else None
                if canon:
                    k = (c.role, canon)
                    assert seen.setdefault(k, (c.name, c.type)) == (c.name, c.type), (pop, d.name, c.name)
        assert len({d.disclosure.threshold for d in ds}) == 1, pop


def test_learner_pairs_declare_the_same_public_cell(cat):
    """The institution total of each learner population is public in both datasets that publish it."""
    for a, b in ((2, 5), (3, 6), (4, 7)):
        for n in (a, b):
            assert cat.dataset(n).disclosure.public, n
    assert {"programmas_kods": "total"} in cat.dataset(6).disclosure.public


# ------------------------------------------------------------------------------ definitions vs cells models
@pytest.mark.parametrize("number", range(1, 13))
def test_cells_yml_matches_definition(cat, cells_yml, number):
    d = cat.dataset(number)
    m = cells_yml[d.cells_model]
    assert m["config"]["contract"]["enforced"] is True
    cols = [(c["name"], c["data_type"]) for c in m["columns"]]
    want = [(c.name, DBT_TYPES[c.type]) for c in d.columns] + [("_row_key", "varchar")]
    assert cols[:len(want)] == want
    assert cols[len(want):] in ([], [("_not_available", "boolean")])
    assert any(t == {"unique": {"column_name": "_row_key"}} for t in m.get("data_tests", []))
    assert (CELLS_DIR / f"{d.cells_model}.sql").exists()


def test_no_cells_model_without_a_definition(cat, cells_yml):
    models = {d.cells_model for d in cat.datasets}
    assert set(cells_yml) == models
    assert {p.stem for p in CELLS_DIR.glob("*.sql")} == models


@pytest.mark.parametrize("number", range(1, 13))
def test_row_key_is_the_key_columns_in_order(cat, number):
    d = cat.dataset(number)
    sql = (CELLS_DIR / f"{d.cells_model}.sql").read_text(encoding="utf-8")
    calls = re.findall(r"od_row_key\(\[([^\]]*)\]\)", sql)
    assert len(calls) == 1, "one od_row_key call per cells model"
    assert re.findall(r"'([a-z0-9_]+)'", calls[0]) == [c.name for c in d.key_columns()]


def test_total_member_is_kopa():
    assert TOTAL == "Kopā"
    macros = (PROJECT_ROOT / "dbt_project" / "macros" / "open_data.sql").read_text(encoding="utf-8")
    assert f"'{TOTAL}'" in macros


# ------------------------------------------------------------------------------------------ the loader's checks
@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of open_data/ to break."""
    root = tmp_path / "open_data"
    shutil.copytree(catalogue.OPEN_DATA_DIR, root)
    return root


def _edit(path: Path, fn) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _col(doc, name):
    return next(c for c in doc["columns"] if c["name"] == name)


GENERAL = "03_learners_general.yaml"
GRADES = "11_grades_by_programme.yaml"


def test_copy_loads(tree):
    assert len(load(tree).datasets) == 12


@pytest.mark.parametrize("file, edit, field", [
    (GENERAL, lambda d: _col(d, "klase").update(role="breakdown"), "columns[6].role"),
    (GENERAL, lambda d: _col(d, "klase").update(type="text"), "columns[6].type"),
    (GENERAL, lambda d: _col(d, "klase").pop("dimension"), "klase.dimension"),
    (GENERAL, lambda d: _col(d, "klase").update(name="Klase"), "columns[6].name"),
    (GENERAL, lambda d: _col(d, "izglitojamo_skaits").pop("measure"), "izglitojamo_skaits.measure"),
    (GENERAL, lambda d: _col(d, "klase").update(label={"lv": "Klase"}), "label"),
    (GENERAL, lambda d: d.update(name="Bad Name"), "name"),
    (GENERAL, lambda d: d.update(model="learners"), "model"),
    (GENERAL, lambda d: d.update(update_frequency="SOMETIMES"), "update_frequency"),
    (GENERAL, lambda d: d["disclosure"].update(threshold=0), "disclosure.threshold"),
    (GENERAL, lambda d: d["disclosure"].update(public=[{"izglitojamo_skaits": "total"}]), "disclosure.public"),
    (GENERAL, lambda d: d["disclosure"].update(public=[{"dzimums": "some"}]), "disclosure.public"),
    (GENERAL, lambda d: d.update(columns=d["columns"] + [d["columns"][-1]]), "columns"),
    (GENERAL, lambda d: d.pop("keywords"), "keywords"),
    (GRADES, lambda d: _col(d, "nepietiekamo_ipatsvars").update(numerator="nope"), "nepietiekamo_ipatsvars.numerator"),
    (GRADES, lambda d: _col(d, "videjais_vertejums").update(denominator="nepietiekamo_ipatsvars"),
     "videjais_vertejums.denominator"),
    ("12_absences_by_programme.yaml", lambda d: _col(d, "kavetas_stundas").update(persons="kavetas_stundas_slimiba"),
     "kavetas_stundas.persons"),
    # disclosure control and the one-year rebuild work per period: a dataset with values has exactly one
    (GENERAL, lambda d: _col(d, "macibu_gads").update(role="dimension", dimension="year"), "columns"),
])
def test_broken_definition_names_file_and_field(tree, file, edit, field):
    path = tree / "datasets" / file
    _edit(path, edit)
    with pytest.raises(DefinitionError) as e:
        load_dataset(path)
    assert str(path) in str(e.value) and f"field '{field}'" in str(e.value)


def test_repeated_name_across_datasets(tree):
    _edit(tree / "datasets" / GRADES, lambda d: d.update(name="viis-klasifikatori"))
    with pytest.raises(DefinitionError, match="field 'name'.*repeats"):
        load(tree)
